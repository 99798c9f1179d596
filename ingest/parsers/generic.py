"""Fallback parser for plans without a dedicated parser (TXT, Markdown, PDF text).

It only trusts headings: Markdown ``#``, ``第N章``, numbered ``1. xxx`` and
measure headings (``施策No.3`` / ``No 3`` / ``重点方針3``). Everything between
two headings is that heading's body. Odd or empty input yields fewer records,
never an exception, because a plan we cannot read well should still be searchable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.parsers import text as tx
from ingest.records import KPI, Action, Measure, ParsedPlan, PlanInfo, Section

_MARKDOWN = re.compile(r"^(#{1,6})[ \t\u3000]+(.+?)[ \t#]*$")
_CHAPTER = re.compile(r"^第[ \u3000]*([0-9０-９]+|[一二三四五六七八九十]+)[ \u3000]*章[ \u3000]*(.*)$")
_NUMBERED = re.compile(r"^([0-9０-９]{1,2})[.．](?![0-9０-９])[ \u3000]*(\S[^\t]{0,39})$")
_MEASURE = re.compile(
    r"^(?:施策[ \u3000]*)?(?:No|NO|Ｎｏ)[.．]?[ \t\u3000]*([0-9０-９]{1,3})(?![0-9０-９])(?:[ \t\u3000:：.．]+(.*))?$"
    r"|^重点方針[ \u3000]*([0-9０-９]{1,2})(?![0-9０-９])(?:[ \t\u3000:：.．]+(.*))?$"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LABEL_CELL = re.compile(r"^(?:個別)?施策名$")
_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九十")}


@dataclass
class Heading:
    kind: str  # markdown | chapter | numbered | measure | other
    number: str
    title: str
    line: str  # the heading as written, tidied


@dataclass
class Block:
    """A heading and the raw lines under it; ``chapter`` is the 第N章 in effect."""

    heading: Heading | None
    lines: list[str] = field(default_factory=list)
    chapter: Heading | None = None


Classifier = Callable[[str], "Heading | None"]


def parse(text: str, info: PlanInfo) -> ParsedPlan:
    plan = ParsedPlan(info=info)
    if not isinstance(text, str) or not text.strip():
        return plan
    lines = tx.fix_ocr(_CONTROL.sub("", text.replace("\r", ""))).split("\n")
    keys: set[str] = set()
    for block in merge_repeats(split_blocks(lines)):
        head = block.heading
        if head is not None and head.kind == "measure":
            _add_measure(plan, block, info)
            continue
        body = render_body(block.lines)
        if not body and head is None:
            continue
        if not body and head is not None and head.kind == "chapter":
            continue  # a chapter title directly followed by its first sub-heading
        key = unique_key(section_key(block), keys)
        title = head.line if head is not None else "はじめに"
        plan.sections.append(Section(plan=info.id, key=key, title=title, text=body or title,
                                     kind="chapter" if head is not None else "intro"))
    return plan


def classify(line: str) -> Heading | None:
    """The heading a line is, if any. Long or sentence-like lines never are."""
    line = line.strip()
    if not line or len(line) > 80:
        return None
    md = _MARKDOWN.match(line)
    if md:
        title = tx.one_line(md.group(2))
        inner = classify(title)
        if inner is not None and inner.kind in ("measure", "chapter"):
            return inner
        return Heading("markdown", str(len(md.group(1))), title, title)
    measure = _measure_heading(line)
    if measure is not None:
        return measure
    chapter = _CHAPTER.match(line)
    if chapter and "。" not in line and "\t" not in line:
        title = tx.one_line(chapter.group(2))
        return Heading("chapter", _number(chapter.group(1)), title, tx.one_line(line))
    numbered = _NUMBERED.match(line)
    if numbered and "。" not in line and not line.endswith(("、", "，")):
        title = tx.one_line(numbered.group(2))
        inner = _measure_heading(title)
        if inner is not None:
            return inner
        return Heading("numbered", _number(numbered.group(1)), title, f"{_number(numbered.group(1))}. {title}")
    return None


def _measure_heading(line: str) -> Heading | None:
    found = _MEASURE.match(line)
    if not found:
        return None
    number = _number(found.group(1) or found.group(3))
    rest = found.group(2) if found.group(1) else found.group(4)
    cells = [tx.one_line(c) for c in re.split(r"\t+", rest or "")]
    title = " ".join(c for c in cells if c and not _LABEL_CELL.match(c))
    return Heading("measure", number, title, tx.one_line(line.replace("\t", " ")))


def _number(raw: str) -> str:
    """Heading number as ASCII digits; kanji numerals up to 九十九 are read too."""
    raw = tx.nfkc_digits(raw)
    if raw.isdigit():
        return str(int(raw))
    tens, _, ones = raw.rpartition("十")
    if "十" not in raw:
        return str(_KANJI_DIGITS.get(raw, 0))
    return str(_KANJI_DIGITS.get(tens, 1) * 10 + _KANJI_DIGITS.get(ones, 0))


def split_blocks(lines: list[str], classifier: Classifier = classify) -> list[Block]:
    """Blocks by heading. A heading equal to the last one of its kind is a page header."""
    current = Block(None)
    blocks = [current]
    last: dict[str, str] = {}
    chapter: Heading | None = None
    for raw in lines:
        head = classifier(raw) if raw.strip() else None
        if head is None:
            current.lines.append(raw)
            continue
        if head.kind == "measure":
            same = next((b for b in blocks if b.heading is not None and b.heading.kind == "measure"
                         and b.heading.number == head.number), None)
            if same is not None:  # the measure's header repeated on a later page
                current = same
                continue
        elif last.get(head.kind) == head.line:
            continue
        last[head.kind] = head.line
        if head.kind == "chapter":
            chapter = head
            last.pop("numbered", None)
        current = Block(head, [], chapter)
        blocks.append(current)
    return [b for b in blocks if b.heading is not None or any(line.strip() for line in b.lines)]


def render_body(lines: list[str]) -> str:
    """Field text from raw lines: tables as 「｜」 rows, Point boxes labelled, repeats dropped."""
    out: list[str] = []
    seen: set[str] = set()
    point = False
    for raw in lines:
        if "\t" in raw:
            parts = ["｜".join(c for c in tx.table_cells(raw) if c and not tx.is_layout_debris(c))]
        else:
            parts = tx.field_lines(raw)
        for part in parts:
            if not part or part in seen:
                continue
            if part == "Point":
                point = True
                continue
            if point:
                part, point = f"【Point】{part}", False
            seen.add(part)
            out.append(part)
    return "\n".join(out)


def merge_repeats(blocks: list[Block]) -> list[Block]:
    """Join consecutive blocks whose headings share a number and start alike (one item over pages)."""
    out: list[Block] = []
    for block in blocks:
        prev = out[-1].heading if out else None
        head = block.heading
        if prev is not None and head is not None and prev.kind == head.kind and prev.number == head.number:
            a, b = tx.compare_key(prev.title), tx.compare_key(head.title)
            if a[:6] == b[:6] or a in b or b in a:
                out[-1].lines.extend(block.lines)
                continue
        out.append(Block(head, list(block.lines), block.chapter))
    return out


def unique_key(key: str, used: set[str]) -> str:
    candidate, n = key, 2
    while candidate in used:
        candidate, n = f"{key}-{n}", n + 1
    used.add(candidate)
    return candidate


def section_key(block: Block) -> str:
    head = block.heading
    if head is None:
        return "intro"
    if head.kind == "chapter":
        return f"ch{head.number}"
    if head.kind == "numbered":
        return f"ch{block.chapter.number}-{head.number}" if block.chapter else f"sec{head.number}"
    return "sec"


def _add_measure(plan: ParsedPlan, block: Block, info: PlanInfo) -> None:
    head = block.heading
    number = int(head.number) if head.number.isdigit() else len(plan.measures) + 1
    body_lines = list(block.lines)
    title = head.title
    if not title:  # 「重点方針1」 alone: the title is the next short line
        for k, raw in enumerate(body_lines):
            candidates = tx.field_lines(raw.replace("\t", " "))
            if candidates:
                if len(candidates[0]) <= 60 and "。" not in candidates[0]:
                    title = candidates[0]
                    body_lines = body_lines[k + 1 :]
                break
    overview, kpis, actions = labelled_fields(render_body(body_lines))
    existing = plan.measure(number)
    if existing is not None:
        existing.overview = "\n".join(p for p in (existing.overview, overview) if p)
        existing.kpis += kpis
        existing.actions += actions
        return
    plan.measures.append(Measure(plan=info.id, number=number, title=title or head.line, overview=overview,
                                 kpis=kpis, actions=actions))


# Labelled lines inside a measure's body (「目標：…」「担当：…」「期間：…」「現状値：…」).
_LABEL = re.compile(r"^[・\-\s]*(目標値?|KPI|ＫＰＩ|指標|担当(?:課|部署)?|所管|期間|実施期間|スケジュール|現状値?)\s*[:：]\s*(.+)$")
_VALUE = re.compile(r"\d[\d,.]*\s*(?:万|億)?\s*(?:件|人|名|%|％|回|か所|カ所|箇所|校|施設|業務|橋|割|点|時間|日|台|店舗|社|団体|円)?"
                    r"(?:以上|以下|未満)?")


def labelled_fields(body: str) -> tuple[str, list[KPI], list[Action]]:
    """A generic measure body split into its labelled parts: KPI lines (year and target from
    the line, the 現状値 line as baseline), an action with its departments and period, and
    the rest as the overview."""
    rest: list[str] = []
    targets: list[str] = []
    baseline = ""
    departments: list[str] = []
    period = ""
    for line in body.split("\n"):
        m = _LABEL.match(line.strip())
        if not m:
            rest.append(line)
            continue
        label, value = m.group(1), m.group(2).strip()
        if label.startswith(("目標", "KPI", "ＫＰＩ", "指標")):
            targets.append(value)
        elif label.startswith(("担当", "所管")):
            departments += [d for d in re.split(r"[、,・\s]+", value) if d]
        elif label.startswith("現状"):
            baseline = value
        else:
            period = value
        rest.append(line)  # the labelled line stays readable in the overview too
    kpis = []
    for target in targets:
        years = tx.years_in(target)
        values = [v.strip() for v in _VALUE.findall(target) if not re.fullmatch(r"(20\d\d|令和\d+)年?度?", v.strip())]
        kpis.append(KPI(text=target, year=years[-1] if years else None, targets=values[-1:],
                        target=values[-1] if values else None, baseline=baseline or None))
    lead = next((ln for ln in rest if ln.strip() and not _LABEL.match(ln.strip())), "").strip()
    actions = [Action(text=lead or "、".join(departments), period=period, years=tx.year_range(period),
                      departments=departments)] if departments or period else []
    return "\n".join(rest).strip(), kpis, actions


# --- layout tokens and year tables (shared with the city parsers) ------------------------


@dataclass
class Tok:
    """A non-blank line (``text``) or a tab table (``rows``), with the blank lines before it."""

    text: str
    gap: int
    rows: list[list[str]] | None = None
    bullet: bool = False  # the source line was a list item ("- ...", "・...")


def tokens(lines: list[str]) -> list[Tok]:
    """Clean lines and tables; blank-line gaps are kept because they mark figures."""
    toks: list[Tok] = []
    gap = 0
    for raw in lines:
        if not raw.strip():
            gap += 1
            continue
        if "\t" in raw:
            cells = [tx.join_cjk_spaces(c) for c in tx.table_cells(raw)]
            if toks and toks[-1].rows is not None and gap == 0:
                toks[-1].rows.append(cells)
            else:
                toks.append(Tok("", gap, [cells]))
        else:
            bullet = raw.lstrip().startswith(("- ", "* ", "・"))
            for k, part in enumerate(tx.field_lines(raw)):
                toks.append(Tok(part, gap if k == 0 else 0, bullet=bullet))
        gap = 0
    return toks


def place(labels: list[str], values: list[str], confirmed: set[int] | None = None) -> tuple[dict[str, str], bool]:
    """Cells of a year-table row whose column is certain, and whether the whole row was placed.

    Empty cells in PDF-extracted rows do not always keep their column, so a
    value is placed only when no empty cell precedes it, or when another table
    (``confirmed``: its filled columns) has values in exactly the same columns.
    """
    if len(values) != len(labels):
        return {}, False
    filled = [i for i, v in enumerate(values) if v]
    if not filled:
        return {}, True
    if filled == list(range(len(filled))) or (confirmed is not None and set(filled) == confirmed):
        return {labels[i]: values[i] for i in filled}, True
    lead: dict[str, str] = {}
    for i, value in enumerate(values):
        if not value:
            break
        lead[labels[i]] = value
    return lead, False
