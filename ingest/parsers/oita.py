"""Parser for 大分市DX推進計画 アクションプラン 第1期 (2025-2026).

The source is text pulled from a PDF. Measure pages come out in three layouts
(tab-separated table rows, one field per line, a space-separated header line),
carry HTML fragments and spaced letters, and one measure (No 22) lost its
header row. Each measure block is therefore flattened to a stream of cells and
read by its labels (施策概要, 施策実施背景, KPI years, 最終的な目標 ...), which
makes the parse independent of layout and of the order of the goal labels.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from ingest.parsers.text import clean, one_line, year_range
from ingest.records import KPI, Action, FinalGoal, GlossaryTerm, Measure, ParsedPlan, PlanInfo, Section

VISIONS = ("市民サービスの向上", "行政事務の効率化", "人材育成")

_SP = r"[\t \u3000]"
_HEADER_INLINE = re.compile(rf"^No{_SP}+(\d+){_SP}+個別施策名{_SP}+(.+?){_SP}*$")
_VISION_LABEL = re.compile(r"^3つの実現したい未来")
_KPI_LABEL = re.compile(r"^(20\d\d)\s*[(（]\s*令和\s*\d+\s*[)）]\s*年度(?:\s*年次目標【KPI】)?$")
_GOAL_LABEL = re.compile(r"^(?:最終的な目標|達成見込み年度|あるべき姿\s*[(（]取組目標[)）])$")
_GOAL_YEAR = re.compile(r"^(20\d\d)\s*年度\s*(?:[(（]\s*令和\s*(\d+)\s*年度\s*[)）])?$")
_REIWA_ONLY = re.compile(r"^[(（]\s*令和\s*(\d+)\s*年度\s*[)）]$")
_DASH = re.compile(r"^[—―‐－ー-]$")
_DEBRIS = re.compile(r"^[-|:\s]+$")  # table rules such as ----, ---|
# 〈取組〉 text, then 【period departments】 (possibly on the next line).
_ACTION = re.compile(r"〈取組〉[ \u3000]*(?P<text>[^〈【\n]+?)\s*(?:【(?P<meta>[^】]*)】|$)", re.MULTILINE)
_PERIOD = re.compile(
    r"^(?P<period>(?:令和\s*\d+|20\d\d)\s*年度(?:\s*[～~〜－-]\s*(?:令和\s*\d+|20\d\d)\s*年度)?)\s*(?P<rest>.*)$",
    re.DOTALL,
)
_BRACKET = re.compile(r"【([^】]*)】")
_BASELINE = re.compile(r"【([^】]*[：:]\s*令和\s*\d+\s*年度?末?)】")
_LIST_DASH = re.compile(r"^[-*][ \u3000]+(?=\S)", re.MULTILINE)  # markdown list markers: "- ・..."
_BULLET = re.compile(r"[ \u3000]+・")  # inline "・" bullets from <ul>; 「いじめ・不登校」 has no space
_TOPIC = re.compile(r"[ \u3000]+(?=【[^】\d]{1,8}】)")  # "… 【下水道】…": a topic label starts a new line
_SURVEY_HEAD = re.compile(r"^\d+\.\s*市民アンケート")
_GLOSSARY_HEAD = re.compile(r"^\d+\.\s*用語(?:集|解説)")
_SUB_HEAD = re.compile(r"^(\d)\.\s*(\S.*)$")
_TOC_LINE = re.compile(r"^(\d+\.\s*.+?)\t+(\d+)(?:\s*[~～]\s*(\d+))?\s*$")
# Slips that the shared text helpers do not cover (an acronym split unevenly).
_SOURCE_FIXES = {"PDC A": "PDCA"}


@dataclass
class _Block:
    """Raw lines of one measure; number/title come from its header line."""

    number: int | None
    title: str
    lines: list[str] = field(default_factory=list)
    has_vision: bool = False
    notes: list[str] = field(default_factory=list)


def parse(text: str, info: PlanInfo) -> ParsedPlan:
    lines = text.replace("\r", "").split("\n")
    first = next((i for i in range(len(lines)) if _read_header(lines, i)[0]), len(lines))
    survey = _find(lines, _SURVEY_HEAD, first)
    glossary_at = _find(lines, _GLOSSARY_HEAD, survey)
    blocks = _split_blocks(lines[first:survey])
    _recover_numbers(blocks)
    measures = [_measure(block, info) for block in blocks]
    terms = _glossary(lines[glossary_at:], info)
    sections = [_intro(lines[:first], info), *_survey(lines[survey:glossary_at], info)]
    if terms:
        glossary_text = "\n".join(f"{t.term}：{t.explanation}" for t in terms)
        sections.append(Section(plan=info.id, key="glossary", title="用語集", text=glossary_text, kind="glossary"))
    return ParsedPlan(info=info, measures=measures, sections=sections, glossary=terms)


def _find(lines: list[str], pattern: re.Pattern[str], start: int) -> int:
    return next((i for i in range(start, len(lines)) if pattern.match(lines[i].strip())), len(lines))


# --- splitting into measure blocks -------------------------------------------------


def _read_header(lines: list[str], i: int) -> tuple[_Block | None, int]:
    """A measure header at line i (inline or one field per line) and the next index."""
    m = _HEADER_INLINE.match(lines[i].strip())
    if m:
        return _Block(int(m.group(1)), one_line(m.group(2))), i + 1
    if lines[i].strip() != "No":
        return None, i
    ahead = [j for j in range(i + 1, min(i + 12, len(lines))) if lines[j].strip()][:3]
    if len(ahead) == 3 and lines[ahead[0]].strip().isdigit() and lines[ahead[1]].strip() == "個別施策名":
        return _Block(int(lines[ahead[0]].strip()), one_line(lines[ahead[2]])), ahead[2] + 1
    return None, i


def _split_blocks(lines: list[str]) -> list[_Block]:
    """Cut at headers; a second Vision label inside a block means a lost header."""
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        header, nxt = _read_header(lines, i)
        if header:
            blocks.append(header)
            i = nxt
            continue
        if blocks:
            if _VISION_LABEL.match(lines[i].strip()):
                if blocks[-1].has_vision:
                    blocks.append(_Block(None, ""))
                blocks[-1].has_vision = True
            blocks[-1].lines.append(lines[i])
        i += 1
    return blocks


def _recover_numbers(blocks: list[_Block]) -> None:
    """Number headerless blocks from their position (No 22 sits between No 21 and No 23)."""
    for k, block in enumerate(blocks):
        if block.number is not None:
            continue
        prev = blocks[k - 1].number if k else 0
        nxt = blocks[k + 1].number if k + 1 < len(blocks) else None
        block.number = (prev or 0) + 1
        where = f"No {prev} と No {nxt} の間" if nxt is not None else f"No {prev} の後"
        block.notes.append(
            f"header recovered: 見出し行（No・個別施策名）が抽出テキストに無いため、番号は位置（{where}）から復元"
        )
        if nxt is not None and nxt != block.number + 1:
            block.notes.append("番号の復元は不確か（前後の番号が連続していない）")


# --- reading one measure -------------------------------------------------------------


def _cells(lines: list[str]) -> list[str]:
    """Non-empty tab cells in reading order, without table-rule debris."""
    out = []
    for line in lines:
        for cell in line.split("\t"):
            cell = cell.strip()
            if cell and not _DEBRIS.match(cell):
                out.append(cell)
    return out


def _label(cell: str) -> str | None:
    """Field key a label cell opens; "" for labels that keep the current field."""
    if _VISION_LABEL.match(cell):
        return "vision"
    if cell == "施策概要":
        return "overview"
    if cell == "施策実施背景":
        return "background"
    if m := _KPI_LABEL.match(cell):
        return f"kpi:{m.group(1)}"
    if cell == "年次目標【KPI】":
        return ""
    if _GOAL_LABEL.match(cell):
        return "goal"
    return None


def _fields(cells: list[str]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = defaultdict(list)
    state = None
    for cell in cells:
        key = _label(cell)
        if key is None:
            if state:
                fields[state].append(cell)
        elif key:
            state = key
    return fields


def _tidy(raw: str) -> str:
    """Field text: no markup, list items on their own lines, known slips fixed."""
    text = _LIST_DASH.sub("", clean(raw))
    text = _TOPIC.sub("\n", _BULLET.sub("\n・", text))
    for wrong, right in _SOURCE_FIXES.items():
        text = text.replace(wrong, right)
    return clean(text)


def _visions(lines: list[str]) -> tuple[dict[str, bool] | None, list[str]]:
    """○ flags read by column position; only tab rows keep positions, else None."""
    for k, line in enumerate(lines[:-1]):
        if "\t" not in line or VISIONS[0] not in line:
            continue
        heads = [c.strip() for c in line.split("\t")]
        flags = {h: False for h in heads if h in VISIONS}
        for pos, mark in enumerate(c.strip() for c in lines[k + 1].split("\t")):
            if not mark:
                continue
            if mark != "○" or pos >= len(heads) or heads[pos] not in VISIONS:
                return None, ["Vision の○の列が読み取れないため visions は空"]
            flags[heads[pos]] = True
        missing = [v for v in VISIONS if v not in flags]
        notes = [f"Vision の見出し列に {'・'.join(missing)} が無いため、その○は不明"] if missing else []
        return flags or None, notes
    return None, []


def _action(m: re.Match[str]) -> Action:
    text = one_line(m.group("text"))
    meta = one_line(m.group("meta") or "")
    pm = _PERIOD.match(meta)
    if not pm:
        return Action(text=f"{text}【{meta}】" if meta else text)
    departments = [d.strip() for d in re.split(r"[、,，]", pm.group("rest")) if d.strip()]
    period = pm.group("period")
    return Action(text=text, period=period, years=year_range(period), departments=departments)


def _kpi(year: int, cells: list[str], baseline: str | None, metric: str = "") -> KPI:
    """KPI with its bracketed values and the 現状値 the background states."""
    text = _tidy("\n".join(cells))
    targets = [re.split(r"[/／]", b)[0].strip() for b in _BRACKET.findall(text) if re.search(r"\d", b)]
    label = f"{year}(令和{year - 2018})年度"
    kpi = KPI(text=text, year=year, year_label=label, targets=targets)
    if baseline and targets:
        kpi.baseline, kpi.target = baseline, "、".join(targets)
    elif baseline and metric and metric in text:
        kpi.baseline = baseline  # 「…割合が全国平均以上」: no number, but the 現状値 answers 「今は？」
    return kpi


def _baseline_metric(background: str) -> str:
    """What the background note measures: the words before its value (「…の割合 21%…」→「割合」)."""
    m = _BASELINE.search(background)
    name = re.split(r"\s\d", one_line(m.group(1)))[0] if m else ""
    tail = re.search(r"[一-龥ァ-ヶー]+$", name)
    return tail.group(0) if tail else ""


def _baseline(background: str) -> str | None:
    """現状値 from a background note such as 【…件数 52,187件/累積：令和5年度末】 (value part only)."""
    m = _BASELINE.search(background)
    if not m:
        return None
    note = one_line(m.group(1))
    value = re.search(r"\s(\d.*)$", note)
    return value.group(1) if value else note


def _final_goal(cells: list[str]) -> FinalGoal | None:
    """Year cells and text cells are told apart by shape, so label order does not matter."""
    year = reiwa = None
    dash = False
    parts = []
    for cell in cells:
        if m := _GOAL_YEAR.match(cell):
            year, reiwa = int(m.group(1)), m.group(2) or reiwa
        elif m := _REIWA_ONLY.match(cell):
            reiwa = m.group(1)
        elif _DASH.match(cell):
            dash = True
        else:
            parts.append(cell)
    if not parts and year is None:
        return None
    if year and reiwa:
        year_text = f"{year}年度（令和{reiwa}年度）"
    else:
        year_text = f"{year}年度" if year else ("—" if dash else "")
    return FinalGoal(text=_tidy("\n".join(parts)), target_year=year, target_year_text=year_text)


def _derived_title(actions: list[Action], overview: str) -> str:
    """Title for a measure whose header was lost.

    The 施策一覧 page (目次 item 5) did not survive extraction, so the plan text
    holds no title for such a measure. The first 〈取組〉 names the work, e.g.
    「児童生徒のいじめ・不登校事務の最適化及び校務支援システムの…」; its first
    clause (before 及び/並びに) is used as the title.
    """
    source = actions[0].text if actions else overview.split("。")[0]
    return re.split(r"及び|並びに", source)[0].strip("、。 ")


def _measure(block: _Block, info: PlanInfo) -> Measure:
    fields = _fields(_cells(block.lines))
    overview_raw = _tidy("\n".join(fields["overview"]))
    actions = [_action(m) for m in _ACTION.finditer(overview_raw)]
    overview = clean(_ACTION.sub("", overview_raw))
    background = _tidy("\n".join(fields["background"]))
    baseline = _baseline(background)
    years = sorted(int(key.split(":")[1]) for key in fields if key.startswith("kpi:"))
    visions, notes = _visions(block.lines)
    notes = block.notes + notes
    title = block.title
    if not title:
        title = _derived_title(actions, overview)
        notes.append(f"施策名「{title}」は施策一覧に無いため〈取組〉の記述から導出")
    goal = _final_goal(fields["goal"])
    if goal and goal.target_year is None:
        notes.append(f"達成見込み年度が原文で「{goal.target_year_text or '空欄'}」のため target_year なし")
    return Measure(
        plan=info.id,
        number=block.number or 0,
        title=title,
        overview=overview,
        background=background,
        actions=actions,
        kpis=[_kpi(y, fields[f"kpi:{y}"], baseline, _baseline_metric(background)) for y in years],
        final_goal=goal,
        visions=visions,
        notes=notes,
    )


# --- front matter, survey, glossary -----------------------------------------------------


def _intro(lines: list[str], info: PlanInfo) -> Section:
    """Cover and table of contents: the only front matter the extracted text holds."""
    out = []
    for line in lines:
        if m := _TOC_LINE.match(line.strip()):
            pages = f"{m.group(2)}～{m.group(3)}" if m.group(3) else m.group(2)
            out.append(f"{one_line(m.group(1))}（{pages}ページ）")
        elif line.strip():
            out.append(one_line(line))
    return Section(plan=info.id, key="intro", title="表紙・目次", text="\n".join(out), kind="intro")


def _survey(lines: list[str], info: PlanInfo) -> list[Section]:
    """One section per numbered part of 市民アンケート; the lead line opens the first."""
    if not lines:
        return []
    lead: list[str] = []
    parts: list[tuple[str, str, list[str]]] = []
    for line in lines[1:]:
        if m := _SUB_HEAD.match(line.strip()):
            parts.append((m.group(1), one_line(m.group(2)), []))
        elif parts:
            parts[-1][2].append(line)
        else:
            lead.append(line)
    head = clean("\n".join(lead))
    sections = []
    for k, (num, heading, body) in enumerate(parts):
        text = clean("\n".join(body))
        if k == 0 and head:
            text = f"{head}\n{text}"
        title = f"市民アンケート {num}. {heading}"
        sections.append(Section(plan=info.id, key=f"survey-{num}", title=title, text=text, kind="survey"))
    if not sections:
        sections.append(Section(plan=info.id, key="survey", title="市民アンケート", text=head, kind="survey"))
    return sections


def _glossary(lines: list[str], info: PlanInfo) -> list[GlossaryTerm]:
    """用語集 rows are "term<TAB>explanation"; repeated page headers are skipped."""
    terms: list[GlossaryTerm] = []
    for line in lines:
        stripped = line.strip()
        if not stripped or _GLOSSARY_HEAD.match(stripped) or re.match(r"^用語\t+解説$", stripped):
            continue
        if "\t" in stripped:
            term, _, explanation = stripped.partition("\t")
            terms.append(GlossaryTerm(plan=info.id, term=one_line(term), explanation=one_line(explanation)))
        elif terms:  # an explanation wrapped onto the next line
            terms[-1].explanation = one_line(terms[-1].explanation + stripped)
    return terms
