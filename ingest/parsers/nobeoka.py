"""Parser for 延岡市DX推進計画（案）(令和8～12年度).

The source is text pulled from a PDF: page headers repeat at every page top,
figure captions sit between paragraphs, tables come out as tab rows whose empty
cells do not always keep their column, and a few characters are OCR slips.
The plan is read by its landmarks (第N章, ``N. 重点方針k``, 目指すべき姿,
▲ 現状の課題, 具体的な取組, R8–R12 tables) rather than by line positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.parsers import generic
from ingest.parsers import text as tx
from ingest.parsers.nobeoka_tables import (
    CHAPTER_HEAD,
    YEAR_LABEL,
    SummaryRow,
    attach_kpis,
    attach_projects,
    fill_from_summary,
    key_projects,
    kpi_table,
    milestone_years,
    policy_label,
    summary_rows,
)
from ingest.records import Action, GlossaryTerm, Measure, ParsedPlan, PlanInfo, Section

# Slips in this PDF that the shared OCR table does not cover.
SOURCE_FIXES = {
    "デジタルバйд": "デジタルデバイド",
    "デバインド": "デバイド",
    "勸奨": "勧奨",
    "苦勞": "苦労",
    "ワット・ピット": "ワット・ビット",
}

POLICY_HEAD = re.compile(r"^\d{1,2}\.\s*重点方針\s*(\d)$")
MILESTONE_HEAD = re.compile(r"^\d{1,2}\.\s*重点方針とマイルストーン$")
_AREA = re.compile(r"（([^（）]{1,12}分野)）$")
_KPI_LINE = re.compile(r"^KPI[\s\u3000]*(\S.*)$")
_TERM = re.compile(r"^(\S.{0,20})とは$")
_PERIOD = re.compile(r"令和\s*(\d+)\s*年度から令和\s*(\d+)\s*年度まで")
_TITLE_MARK = re.compile(r"^[\s・①-⑳☒☐□■◆●\U0001F300-\U0001FAFF\u2600-\u27bf]+")
_KEEP_CAPTION = re.compile(r"\d|単位|現在")


@dataclass
class _Walk:
    """Where the policy walk stands: current sub-area, block kind and action."""

    area: str = ""
    mode: str = ""
    action: Action | None = None
    goal: list[str] = field(default_factory=list)
    background: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    item: str = ""  # last milestone-table item, for continuation rows


def parse(text: str, info: PlanInfo) -> ParsedPlan:
    lines = prepare(text)
    heads = [i for i, line in enumerate(lines) if POLICY_HEAD.match(line.strip())]
    if not heads:  # not the layout this parser knows: fall back rather than guess
        return generic.parse(text, info)
    ms_at = next((i for i in range(heads[-1], len(lines)) if MILESTONE_HEAD.match(lines[i].strip())), len(lines))
    ch5_at = next((i for i in range(ms_at, len(lines)) if lines[i].strip().startswith("第5章")), len(lines))
    summary = summary_rows(lines[ms_at:ch5_at])
    glossary: list[GlossaryTerm] = []
    measures = []
    for k, start in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else ms_at
        number = int(POLICY_HEAD.match(lines[start].strip()).group(1))
        measures.append(_policy(number, lines[start + 1 : end], info, summary, glossary))
    kpi_rows = kpi_table(lines[: heads[0]])
    projects = key_projects(lines[: heads[0]])
    year = target_year(text, info)
    kpi_labels = attach_kpis(measures, kpi_rows, year)
    attach_projects(measures, projects)
    fill_from_summary(measures, summary)
    kpi_lines = [f"{label}: {k}（現状値 {b or '—'} → 目標値 {t}）" for label, (_, k, b, t) in zip(kpi_labels, kpi_rows,
                                                                                                strict=True)]
    sections = _sections(lines, heads[0], ms_at, ch5_at, info, measures, kpi_lines, projects, summary)
    return ParsedPlan(info=info, measures=measures, sections=sections, glossary=glossary)


# --- shared reading helpers ------------------------------------------------------------


def prepare(text: str) -> list[str]:
    """Source lines with known slips fixed; tabs kept because tables need them."""
    text = (text or "").replace("\r", "")
    for wrong, right in SOURCE_FIXES.items():
        text = text.replace(wrong, right)
    return tx.fix_ocr(text).split("\n")


def _prose(line: str) -> bool:
    return "。" in line or len(line) >= 30 or line.endswith(("る", "た", "い", "す", "的"))


def target_year(text: str, info: PlanInfo) -> int | None:
    """Last fiscal year of the plan period (本計画の期間は令和8年度から令和12年度まで)."""
    found = _PERIOD.search(tx.nfkc_digits(text or ""))
    if found:
        return tx.reiwa_to_western(int(found.group(2)))
    return info.end_year


# --- one 重点方針 --------------------------------------------------------------------


def _policy(number: int, lines: list[str], info: PlanInfo, summary: list[SummaryRow],
            glossary: list[GlossaryTerm]) -> Measure:
    toks = generic.tokens(lines)
    title_at = next((i for i, t in enumerate(toks) if t.rows is None), None)
    title = toks[title_at].text if title_at is not None else f"重点方針{number}"
    measure = Measure(plan=info.id, number=number, title=title)
    walk = _Walk()
    rest = toks[title_at + 1 :] if title_at is not None else toks
    skip = False
    for i, tok in enumerate(rest):
        if skip:
            skip = False
            continue
        nxt = rest[i + 1] if i + 1 < len(rest) else None
        if tok.rows is not None:
            _table(walk, tok.rows, summary, measure)
            continue
        line = tok.text
        area = _AREA.search(line)
        if area and len(line) <= 40 and "。" not in line:  # sub-area heading, also repeated as page header
            walk.area, walk.mode = area.group(1), ""
            continue
        if tx.similarity(line, title) >= 0.85:  # page header repeating the policy title
            continue
        if line in ("目指すべき姿", "具体的な取組") or line.lstrip("▲ ") == "現状の課題":
            walk.mode = {"目指すべき姿": "goal", "具体的な取組": "actions"}.get(line, "background")
            if walk.mode == "background" and walk.area:
                walk.background.append(f"【{walk.area}】")
            continue
        kpi = _KPI_LINE.match(line)
        if kpi:
            walk.notes.append(f"本文のKPI表記: {kpi.group(1)}")
            continue
        term = _TERM.match(line)
        if term and nxt is not None and nxt.rows is None and "。" in nxt.text:
            glossary.append(GlossaryTerm(plan=info.id, term=term.group(1), explanation=nxt.text))
            skip = True
            continue
        if walk.mode == "goal":
            _goal_line(walk, line)
        elif walk.mode == "background":
            _background_line(walk, tok, nxt)
        elif walk.mode == "actions":
            _action_line(walk, tok, nxt, measure)
    measure.goal_state = "\n".join(walk.goal)
    measure.background = "\n".join(_drop_empty_area_marks(walk.background))
    measure.notes.extend(walk.notes)
    for action in measure.actions:
        action.text = action.text.strip()
        action.years = milestone_years(action.milestones)
    return measure


def _goal_line(walk: _Walk, line: str) -> None:
    if line.startswith("★"):
        body = line.lstrip("★ \u3000")
        walk.goal.append(f"【{walk.area}】{body}" if walk.area else body)
    elif walk.goal and _prose(line):
        walk.goal[-1] += line


def _background_line(walk: _Walk, tok: generic.Tok, nxt: generic.Tok | None) -> None:
    line = tok.text
    if line.startswith("出典"):
        return
    if _is_caption(tok, nxt) or (walk.background and walk.background[-1] == "\x00" and tok.gap == 0):
        walk.background.append("\x00")  # marks a dropped caption; continuation lines follow it
        return
    walk.background.append(line)


def _is_caption(tok: generic.Tok, nxt: generic.Tok | None) -> bool:
    """A figure caption: short, no sentence, after a figure gap, not heading a paragraph."""
    line = tok.text
    if "。" in line or len(line) > 40 or tok.gap < 2 or _KEEP_CAPTION.search(line):
        return False
    return not (nxt is not None and nxt.rows is None and nxt.gap <= 1 and _prose(nxt.text))


def _drop_empty_area_marks(lines: list[str]) -> list[str]:
    kept = [line for line in lines if line != "\x00"]
    return [line for k, line in enumerate(kept) if not (line.startswith("【") and line.endswith("分野】")
                                                        and (k + 1 == len(kept) or kept[k + 1].endswith("分野】")))]


def _action_line(walk: _Walk, tok: generic.Tok, nxt: generic.Tok | None, measure: Measure) -> None:
    line = tok.text
    if line.startswith("出典"):
        return
    starts_note = tok.bullet or line.startswith(("【", "※", "・", "(", "（"))
    is_title = ("。" not in line and len(line) <= 45 and not starts_note and nxt is not None
                and nxt.rows is None and nxt.gap <= 1 and "。" in nxt.text)
    if is_title:
        walk.action = Action(text="", title=_TITLE_MARK.sub("", line).strip(), area=walk.area)
        walk.item = ""
        measure.actions.append(walk.action)
        return
    if walk.action is None:
        return
    if "。" in line or starts_note or _KEEP_CAPTION.search(line) or (tok.gap <= 1 and _prose(line)):
        walk.action.text += ("\n" if walk.action.text else "") + line
    # anything else is a figure caption


# --- R8–R12 tables -------------------------------------------------------------------


def _table(walk: _Walk, rows: list[list[str]], summary: list[SummaryRow], measure: Measure) -> None:
    header, body = rows[0], rows[1:]
    labels = [c for c in header[1:] if c]
    action = walk.action
    if action is None:
        measure.notes.append("取組に属さない表: " + " / ".join("｜".join(c for c in r if c) for r in rows))
        return
    if not labels or not all(YEAR_LABEL.match(c) for c in labels):  # e.g. 件数 table: keep it as text
        for row in body:
            cells = " / ".join(f"{h} {v}" if h else v for h, v in zip(header[1:], row[1:], strict=False) if v)
            action.text += f"\n{row[0]}: {cells}" if row[0] else f"\n{cells}"
        return
    notes: list[str] = []
    for row in body:
        item = row[0] or walk.item
        walk.item = item
        values = row[1:]
        confirmed = _confirmed_positions(action.title, item, labels, summary)
        placed, reliable = generic.place(labels, values, confirmed)
        for label, value in placed.items():
            cell = f"{item}: {value}" if item else value
            action.milestones[label] = f"{action.milestones[label]} / {cell}" if label in action.milestones else cell
        if not reliable:
            notes.append(f"{item}: " + "、".join(v for v in values if v) + "（年度列を特定できず）")
    if notes:
        previous = action.milestones.get("note")
        action.milestones["note"] = "；".join(([previous] if previous else []) + notes)


def _confirmed_positions(title: str, item: str, labels: list[str], summary: list[SummaryRow]) -> set[int] | None:
    """Filled columns of the summary row about the same work, if there is one."""
    keys = [k for k in (tx.compare_key(title), tx.compare_key(item)) if len(k) >= 6]
    for row in summary:
        if row.labels != labels:
            continue
        project = tx.compare_key(row.project)
        haystack = project + "|" + tx.compare_key(" ".join(row.values))
        if any(k in haystack for k in keys) or any(len(project) >= 6 and project in k for k in keys):
            return {i for i, v in enumerate(row.values) if v}
    return None


# --- sections outside the 7 policies ---------------------------------------------------

_SURVEY_START = re.compile(r"^1\.\s*目的$")
_REF_TITLE = re.compile(r"概要|全体像")


def _sections(lines: list[str], policy_at: int, ms_at: int, ch5_at: int, info: PlanInfo, measures: list[Measure],
              kpi_lines: list[str], projects: list[tuple[str, str, list[str]]],
              summary: list[SummaryRow]) -> list[Section]:
    toc_at = next((i for i in range(policy_at) if lines[i].strip() == "目次"), None)
    body_at = next((i for i in range(toc_at or 0, policy_at)
                    if "\t" not in lines[i] and CHAPTER_HEAD.match(lines[i].strip())), 0)
    survey_at = next((i for i in range(ch5_at, len(lines)) if _SURVEY_START.match(lines[i].strip())), len(lines))
    # 参考 pages have no heading of their own; they open with a figure title (…概要 / …全体像).
    ref_at = next((i for i in range(ch5_at + 1, survey_at) if _reference_head(lines[i])), survey_at)
    keys: set[str] = set()
    out: list[Section] = []

    def add(key: str, title: str, text: str, kind: str = "chapter") -> None:
        if text.strip():
            out.append(Section(plan=info.id, key=generic.unique_key(key, keys), title=title, text=text, kind=kind))

    add("cover", info.title, generic.render_body(lines[: toc_at if toc_at is not None else body_at]), "intro")
    for block in generic.split_blocks(lines[body_at:policy_at] + [""] + lines[ch5_at:ref_at], _chapter_head):
        head, chapter = block.heading, block.chapter
        if head is None:
            continue
        title = f"{chapter.line}／{head.line}" if chapter is not None and head is not chapter else head.line
        add(generic.section_key(block), title, _chapter_text(block.lines, kpi_lines, projects, measures))
    kgi = _kgi_text(lines[body_at:policy_at])
    add("kgi", "KGI（重要目標達成指標）", kgi, "kgi")
    number = re.match(r"^(\d+)", lines[ms_at].strip()) if ms_at < len(lines) else None
    add(f"ch4-{number.group(1) if number else 'ms'}", "第4章 本市が取り組むDX／重点方針とマイルストーン",
        _milestone_text(summary, measures), "milestones")
    for k, block in enumerate(generic.split_blocks(lines[ref_at:survey_at], _reference_head), 1):
        title = f"参考／{block.heading.line}" if block.heading else "参考"
        add(f"ref-{k}", title, generic.render_body(block.lines))
    for number_, title, body in _survey_groups(lines[survey_at:]):
        add(f"survey-{number_}", f"市民アンケート／{title}", body, "survey")
    return out


def _chapter_head(line: str) -> generic.Heading | None:
    head = generic.classify(line)
    return head if head is not None and head.kind in ("chapter", "numbered") else None


def _reference_head(line: str) -> generic.Heading | None:
    line = line.strip()
    if line and len(line) <= 60 and "。" not in line and "\t" not in line and _REF_TITLE.search(line):
        title = tx.one_line(line)
        return generic.Heading("other", "", title, title)
    return None


def _chapter_text(lines: list[str], kpi_lines: list[str], projects: list[tuple[str, str, list[str]]],
                  measures: list[Measure]) -> str:
    """Body text; the KPI and 重点事業 tables are written out row by row with their policy."""
    header = next((i for i, line in enumerate(lines) if line.startswith("重点方針\tKPI")), None)
    if header is not None and kpi_lines:
        rest = [line for line in lines[header + 1 :] if "\t" not in line]
        return "\n".join(filter(None, [generic.render_body(lines[:header]), *kpi_lines, generic.render_body(rest)]))
    if projects and any(line.startswith("【重点事業】") for line in lines):
        intro = [line for line in lines if "。" in line]
        rows, category, order = [], "", []
        for cat, name, items in projects:
            if cat != category:
                rows.append(f"【{cat}】")
                category = cat
            rows.append(f"{policy_label(name, measures, order)[1]}: 重点事業 {'、'.join(items)}")
        return "\n".join(filter(None, [generic.render_body(intro), *rows]))
    return generic.render_body(lines)


def _kgi_text(lines: list[str]) -> str:
    """The KGI line, the sentences about it, and the satisfaction figure it starts from."""
    kgi = [p for line in lines if "【KGI】" in line for p in tx.field_lines(line)]
    if not kgi:
        return ""
    about = [p for line in lines if "KGI" in line and "【KGI】" not in line for p in tx.field_lines(line) if "。" in p]
    now = [f"（第3章より）{p}" for line in lines if "アンケート" in line and "満足度" in line and "%" in line
           for p in tx.field_lines(line) if "。" in p]
    return "\n".join(dict.fromkeys(kgi + about + now))


def _milestone_text(summary: list[SummaryRow], measures: list[Measure]) -> str:
    if not summary:
        return ""
    out = ["※年度は抽出した表の列位置による（結合セルは最初の年度列に入っている）。"]
    order: list[str] = []
    for row in summary:
        _, policy = policy_label(row.policy, measures, order)
        cells = " / ".join(f"{label} {value}" for label, value in zip(row.labels, row.values, strict=False) if value)
        out.append(f"{policy}｜{row.project}: {cells or '—'}")
    return "\n".join(out)


def _survey_groups(lines: list[str]) -> list[tuple[str, str, str]]:
    """Survey items by number; a question repeated on several pages is one item."""
    out = []
    for block in generic.merge_repeats(generic.split_blocks(lines, _chapter_head)):
        if block.heading is None:
            continue
        text = generic.render_body(block.lines).split("\n")
        while text and re.fullmatch(r"[（(][^）)]{1,10}[)）]", text[-1]):  # a label left without its text
            text.pop()
        out.append((block.heading.number, block.heading.line, "\n".join(text)))
    return out
