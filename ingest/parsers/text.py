"""Text clean-up shared by the parsers: markup, spaced letters, OCR slips."""

from __future__ import annotations

import html
import re
import unicodedata
from difflib import SequenceMatcher

_TAG = re.compile(r"<[^>]+>")
_BLOCK_TAG = re.compile(r"</?(p|li|ul|ol|br|div)\b[^>]*>", re.IGNORECASE)
# Latin letters separated by single spaces, as PDF extraction produces: "e L T A X"
_SPACED_LATIN = re.compile(r"(?<![A-Za-z])((?:[A-Za-z] ){2,}[A-Za-z])(?![A-Za-z])")
# Known OCR slips in the source PDFs (wrong → right). Keep this list short and explicit.
OCR_FIXES: dict[str, str] = {
    "びったり": "ぴったり",
    "デバйд": "デバイド",  # Cyrillic й/д inside katakana
}
_SPACES = re.compile(r"[ \t\u3000]+")


def strip_markup(text: str) -> str:
    """Remove HTML tags; block tags become line breaks so list items stay apart."""
    text = _BLOCK_TAG.sub("\n", text)
    text = _TAG.sub("", text)
    return html.unescape(text)


def join_spaced_letters(text: str) -> str:
    return _SPACED_LATIN.sub(lambda m: m.group(1).replace(" ", ""), text)


def fix_ocr(text: str) -> str:
    for wrong, right in OCR_FIXES.items():
        text = text.replace(wrong, right)
    return text


def clean(text: str) -> str:
    """Markup-free, OCR-fixed text with tidy whitespace; paragraph breaks kept."""
    text = fix_ocr(join_spaced_letters(strip_markup(text)))
    text = text.replace("\r", "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def one_line(text: str) -> str:
    """Collapse a field to one line (for titles and short values)."""
    return _SPACES.sub(" ", clean(text).replace("\n", " ")).strip()


_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def nfkc_digits(text: str) -> str:
    """Full-width ASCII (digits, letters, signs) to half-width; Japanese left as is."""
    return text.translate(_FULLWIDTH)


_REIWA = re.compile(r"令和\s*(\d+|元)\s*年")


def reiwa_to_western(n: int) -> int:
    return 2018 + n


def years_in(text: str) -> list[int]:
    """Western fiscal years named in text: 2025 / 令和7年 / R7 all give 2025."""
    text = nfkc_digits(text)
    years: set[int] = set()
    for m in re.finditer(r"(?<!\d)(20[1-4]\d)(?!\d)", text):
        years.add(int(m.group(1)))
    for m in _REIWA.finditer(text):
        n = 1 if m.group(1) == "元" else int(m.group(1))
        years.add(reiwa_to_western(n))
    for m in re.finditer(r"(?<![A-Za-z])R\s?(\d{1,2})(?!\d)", text):
        years.add(reiwa_to_western(int(m.group(1))))
    return sorted(years)


# The written forms years_in reads (2025, 2025(令和7)年度, 令和7年度, R7), with their 年度 suffix: for
# removing year mentions from a text.
YEAR_MENTION = re.compile(r"(?<!\d)20[1-4]\d(?!\d)\s*(?:[(（]\s*(?:令和|R)\s*\d+\s*[)）])?\s*年?度?"
                          r"|令和\s*(?:\d+|元)\s*年?度?|(?<![A-Za-z])R\s?\d{1,2}(?!\d)\s*年?度?")


def year_range(text: str) -> list[int]:
    """Years covered by a period such as 令和7年度～令和11年度 (inclusive)."""
    found = years_in(text)
    if len(found) >= 2 and re.search(r"[～~〜\-ー－]", text):
        return list(range(found[0], found[-1] + 1))
    return found


# --- helpers added for the 延岡市 and generic parsers (existing functions unchanged) ---

_CJK = r"\u3000-\u30ff\u3400-\u9fff\uff01-\uff0f\uff1a-\uff20\uff5b-\uff65"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])[ \u3000]+(?=[{_CJK}])")
_DEBRIS_LINE = re.compile(r"^[\s★☆▲△▼▽→←↑↓▶►◆◇●○■□・\-–—―*|:]*$")
_LIST_MARK = re.compile(r"^(?:[-*+][ \u3000]+)+")
_MD_EMPHASIS = re.compile(r"\*\*(.+?)\*\*")


def join_cjk_spaces(text: str) -> str:
    """Drop spaces between two Japanese characters (PDF table cells break lines there)."""
    return _CJK_GAP.sub("", text)


def is_layout_debris(line: str) -> bool:
    """True for lines holding only layout symbols (a lone ★, ▲, → or a rule)."""
    return bool(_DEBRIS_LINE.match(line))


def normalize_list_marker(line: str) -> str:
    """Markdown list markers ("- ・x", "- x") become a single Japanese bullet "・x"."""
    stripped = line.strip()
    if not _LIST_MARK.match(stripped):
        return stripped
    rest = _LIST_MARK.sub("", stripped).strip()
    return rest if re.match(r"[・★☆▲●■◆▶▼※\u2460-\u2473]", rest) else f"・{rest}"


def drop_md_emphasis(text: str) -> str:
    return _MD_EMPHASIS.sub(r"\1", text)


def compare_key(text: str) -> str:
    """Loose form for comparing titles across layouts: NFKC, no spaces, one tilde."""
    text = unicodedata.normalize("NFKC", fix_ocr(text))
    text = re.sub(r"[〜～~]", "~", text)
    return re.sub(r"\s+", "", text)


def table_cells(line: str) -> list[str]:
    """Cells of a tab-separated PDF table row, each tidied to one line."""
    return [one_line(cell) for cell in line.split("\t")]


def looks_like_alt_text(line: str) -> bool:
    """An English figure description left by the PDF extractor (no Japanese, many words)."""
    japanese = len(re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]", line))
    return japanese <= len(line) // 10 and len(line.split()) >= 8


def field_lines(line: str) -> list[str]:
    """One source line as clean field lines: no markup, list markers, debris or alt text."""
    out = []
    for part in clean(drop_md_emphasis(line)).split("\n"):
        part = normalize_list_marker(part)
        if part and not is_layout_debris(part) and not looks_like_alt_text(part):
            out.append(part)
    return out


def similarity(a: str, b: str) -> float:
    """0..1 likeness of two titles after :func:`compare_key` (difflib ratio)."""
    return SequenceMatcher(None, compare_key(a), compare_key(b)).ratio()
