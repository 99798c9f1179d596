"""Text normalisation used before matching an answer against ``must_include`` facts.

Both sides (the answer and the expected fact) go through :func:`normalize`, so
different spellings of the same fact compare equal:

* full-width / half-width forms (NFKC): ``９６％`` == ``96%``, ``ＮＯ．５`` == ``no.5``
* thousands separators: ``76,000`` == ``76，000`` == ``76000``
* 万 / 億 / 千 numbers: ``494万`` == ``4940000``, ``1.5万`` == ``15000``, ``3億`` == ``300000000``
* Japanese eras: ``令和8年度`` == ``R8年度`` == ``2026年度``; ``平成26`` == ``2014``
* a western year followed by the same year in brackets, as the plans write it:
  ``2026(令和8)年度`` == ``2030年度 (令和12年度)`` style → ``2026年度``
* whitespace removed, Latin letters lower-cased

Pure functions, standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = ["normalize", "contains"]

_WHITESPACE = re.compile(r"\s+")
# A comma between digits followed by exactly three digits: 76,000 / 4,940,000
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# 令和8 / 令和元 / 令和7~8 (a range: both ends are Reiwa years)
_REIWA = re.compile(r"令和\s*(元|\d{1,2})(?!\d)(?:\s*([~〜\-ー－])\s*(\d{1,2})(?!\d))?")
_HEISEI = re.compile(r"平成\s*(元|\d{1,2})(?!\d)")
# R8 / R12 (not part of a Latin word such as "QR", not a longer number)
_R_YEAR = re.compile(r"(?<![A-Za-z0-9])R(\d{1,2})(?!\d)")
# Numbers written with 億 / 万 / 千: 494万, 1.5万, 6万3千, 1億2000万
_NUMBER = r"\d+(?:\.\d+)?"
_KANJI_NUMBER = re.compile(rf"{_NUMBER}[億万千](?:{_NUMBER}[億万千])*")
_KANJI_PART = re.compile(rf"({_NUMBER})([億万千])")
_UNITS = {"億": Decimal(100_000_000), "万": Decimal(10_000), "千": Decimal(1_000)}
# 2026(2026)年度 / 2030年度(2030年度) after era conversion → 2026年度 / 2030年度
_DOUBLED_YEAR = re.compile(r"(\d{4})(年度|年)?\((\d{4})(年度|年)?\)")

_REIWA_OFFSET = 2018
_HEISEI_OFFSET = 1988


def _era_year(value: str, offset: int) -> str:
    n = 1 if value == "元" else int(value)
    return str(offset + n)


def _replace_reiwa(match: re.Match[str]) -> str:
    start = _era_year(match.group(1), _REIWA_OFFSET)
    if match.group(3) is None:
        return start
    return f"{start}{match.group(2)}{_era_year(match.group(3), _REIWA_OFFSET)}"


def _replace_kanji_number(match: re.Match[str]) -> str:
    text = match.group(0)
    total = Decimal(0)
    previous_unit: Decimal | None = None
    for value, unit_char in _KANJI_PART.findall(text):
        unit = _UNITS[unit_char]
        if previous_unit is not None and unit >= previous_unit:
            return text  # not a well-formed number such as 3万5万; leave it alone
        try:
            total += Decimal(value) * unit
        except InvalidOperation:  # pragma: no cover - the regex only admits digits
            return text
        previous_unit = unit
    if total == total.to_integral_value():
        return str(int(total))
    return format(total.normalize(), "f")


def _replace_doubled_year(match: re.Match[str]) -> str:
    if match.group(1) != match.group(3):
        return match.group(0)
    return match.group(1) + (match.group(2) or match.group(4) or "")


def normalize(text: str) -> str:
    """Canonical form of ``text`` for fact matching (see the module docstring)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    # Eras first, while whitespace still separates tokens such as "R8 R9 R10".
    text = _REIWA.sub(_replace_reiwa, text)
    text = _HEISEI.sub(lambda m: _era_year(m.group(1), _HEISEI_OFFSET), text)
    text = _R_YEAR.sub(lambda m: _era_year(m.group(1), _REIWA_OFFSET), text)
    text = _WHITESPACE.sub("", text)
    text = _THOUSANDS.sub("", text)
    text = _KANJI_NUMBER.sub(_replace_kanji_number, text)
    text = _DOUBLED_YEAR.sub(_replace_doubled_year, text)
    return text.lower()


def contains(answer: str, needle: str) -> bool:
    """True when ``needle`` occurs in ``answer`` once both are normalised."""
    return normalize(needle) in normalize(answer or "")
