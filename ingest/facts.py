"""Self-contained facts from parsed plan records: the unit the reader answers from.

A fact is one sentence, bullet or table line of a measure field or a section,
one KPI line (year, target, baseline value and date), one baseline, one action
(department and period), one milestone row (its R-year cells), the final goal,
a glossary entry, or the plan period. Each carries its place (plan, measure or
section heading path, field) in ``context``, which is embedded with the text, so
a fact read alone still says what it is about.

IDs derive from the content, like chunk IDs: re-ingesting never duplicates and
the embedding cache (content hash) makes unchanged facts free.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

from ingest.records import KPI, Action, Measure, ParsedPlan, PlanInfo, Section
from ingest.sentences import pieces

# Field names of facts and how the answer names them.
FACT_FIELDS: dict[str, str] = {
    "summary": "施策名",
    "overview": "施策概要",
    "goal_state": "目指すべき姿",
    "background": "背景・課題",
    "action": "取組",
    "milestone": "工程表",
    "kpi": "KPI",
    "baseline": "現状値",
    "final_goal": "最終的な目標",
    "key_projects": "重点事業",
    "section": "本文",
    "survey": "市民アンケート",
    "kgi": "KGI",
    "glossary": "用語解説",
    "plan": "計画の概要",
}
GOAL_STATE_CHARS = 320  # a longer run-on line is cut at a sentence or comma boundary


@dataclass(frozen=True)
class Fact:
    id: str
    plan: str
    measure: str | None  # measure number as a string; None for sections
    section: str  # section key ("" for measure facts)
    field: str  # a key of FACT_FIELDS
    text: str  # as the plan writes it (cleaned)
    context: str  # where it stands: 「大分市 No.3 公式アプリの機能拡充｜KPI 2026年度」
    title: str  # measure title or section title
    order: int = 0  # position inside its block (neighbours support each other)
    block: str = ""  # measure field or section the fact belongs to
    year: int | None = None  # fiscal year the fact is for (KPI target year, final goal year)
    year_label: str = ""  # as written: 2026(令和8)年度 / R12（2030年度）目標
    value: str = ""  # KPI target value as written
    baseline: str = ""  # 現状値 as written (value only)
    baseline_date: str = ""  # its date: 令和5年度末
    departments: tuple[str, ...] = ()
    period: str = ""
    cells: tuple[tuple[str, str], ...] = ()  # milestone R-year cells (R8, …)

    @property
    def embed_text(self) -> str:
        return f"{self.context}\n{self.text}"

    def metadata(self) -> dict[str, str | int]:
        """Chroma metadata: scalars only, no None."""
        return {"plan": self.plan, "measure": self.measure or "", "section": self.section, "field": self.field,
                "year": self.year or 0}

    def to_dict(self) -> dict:
        data = asdict(self)
        data["departments"] = list(self.departments)
        data["cells"] = [list(c) for c in self.cells]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Fact:
        data = dict(data)
        data["departments"] = tuple(data.get("departments") or ())
        data["cells"] = tuple(tuple(c) for c in data.get("cells") or ())
        return cls(**data)


# --------------------------------------------------------------------------- text pieces

_BULLET = re.compile(r"^[・●◎○■◆★▲※\-]\s*")


def _fact_id(plan: str, place: str, text: str) -> str:
    return hashlib.sha1(f"{plan}\x1f{place}\x1f{text}".encode()).hexdigest()[:20]


def split_baseline(baseline: str) -> tuple[str, str]:
    """「52,187件/累積：令和5年度末」→ (「52,187件/累積」, 「令和5年度末」); no date → (value, "")."""
    m = re.match(r"^(.*?)\s*[：:]\s*(.+)$", baseline)
    if m and m.group(1).strip():
        return m.group(1).strip(), m.group(2).strip()
    m = re.match(r"^(.*?)\s*[（(]((?:令和|平成|R)\s*\d[^）)]*)[）)]\s*$", baseline)
    if m and m.group(1).strip():
        return m.group(1).strip(), m.group(2).strip()
    return baseline.strip(), ""


def kpi_name(kpi: KPI) -> str:
    """The KPI's measured quantity without its bracketed target: 「大分市公式アプリのダウンロード件数」."""
    name = re.split(r"\s*【", kpi.text, maxsplit=1)[0].strip(" ・")
    return name or kpi.text


# --------------------------------------------------------------------------- builders


class _Builder:
    def __init__(self, info: PlanInfo):
        self.info = info
        self.facts: list[Fact] = []
        self._seen: set[str] = set()

    def add(self, *, measure: Measure | None, section: Section | None, field: str, text: str, context: str,
            order: int, block: str, **extra) -> None:
        text = text.strip()
        if not text or len(re.sub(r"\W", "", text)) < 2:
            return
        place = f"{measure.number if measure else ''}:{section.key if section else ''}:{block}:{field}"
        fid = _fact_id(self.info.id, place, f"{context}\n{text}")
        if fid in self._seen:
            return
        self._seen.add(fid)
        self.facts.append(Fact(
            id=fid, plan=self.info.id, measure=str(measure.number) if measure else None,
            section=section.key if section else "", field=field, text=text, context=context,
            title=measure.title if measure else (section.title if section else self.info.title),
            order=order, block=block, **extra,
        ))


def _measure_context(info: PlanInfo, m: Measure, label: str, extra: str = "") -> str:
    return f"{info.measure_name(m.number)} {m.title}｜{label}{(' ' + extra) if extra else ''}"


def _year_text(year: int | None) -> str:
    return f"{year}年度（令和{year - 2018}年度）" if year else ""


def _measure_facts(b: _Builder, m: Measure) -> None:
    info = b.info
    lead = re.split(r"(?<=。)", (m.overview or m.goal_state).replace("\n", ""))[0][:160]
    b.add(measure=m, section=None, field="summary", text=f"{m.title}。{lead}" if lead else m.title,
          context=_measure_context(info, m, "施策名"), order=0, block="summary")
    if m.goal_state and len(m.goal_state) <= GOAL_STATE_CHARS:  # a few short lines: one state, one fact
        b.add(measure=m, section=None, field="goal_state", text=m.goal_state.replace("\n", " "),
              context=_measure_context(info, m, FACT_FIELDS["goal_state"]), order=0, block="goal_state")
    if m.visions:
        chosen = [name for name, on in m.visions.items() if on]
        if chosen:
            b.add(measure=m, section=None, field="summary", text=f"つながる「実現したい未来」: {'、'.join(chosen)}",
                  context=_measure_context(info, m, "3つの実現したい未来"), order=1, block="visions")
    for name in ("overview", "goal_state", "background"):
        body = getattr(m, name)
        if name == "goal_state" and len(body) <= GOAL_STATE_CHARS:
            continue
        for i, (heading, sentence) in enumerate(pieces(body)):
            b.add(measure=m, section=None, field=name, text=sentence,
                  context=_measure_context(info, m, FACT_FIELDS[name], heading), order=i, block=name)
    for i, action in enumerate(m.actions):
        _action_facts(b, m, action, i)
    for i, kpi in enumerate(m.kpis):
        _kpi_facts(b, m, kpi, i)
    if m.final_goal:
        goal = m.final_goal
        when = goal.target_year_text or _year_text(goal.target_year)
        text = f"達成見込み年度 {when}: {goal.text}" if when else goal.text
        b.add(measure=m, section=None, field="final_goal", text=text,
              context=_measure_context(info, m, "最終的な目標"), order=0, block="final_goal",
              year=goal.target_year, year_label=when)
    if m.key_projects:
        b.add(measure=m, section=None, field="key_projects", text="重点事業: " + "、".join(m.key_projects),
              context=_measure_context(info, m, "重点事業"), order=0, block="key_projects")


def _action_facts(b: _Builder, m: Measure, action: Action, index: int) -> None:
    info, block = b.info, f"action-{index}"
    label = f"取組「{action.title}」" if action.title else "取組"
    meta = [action.period, "、".join(action.departments)]
    sentences = pieces(action.text)
    if len(sentences) <= 1:  # one line (大分市〈取組〉): the action, its period and departments in one fact
        text = action.text.replace("\n", " ").strip()
        if any(meta):
            text += f"【{' '.join(x for x in meta if x)}】"
        b.add(measure=m, section=None, field="action", text=text, context=_measure_context(info, m, label),
              order=index, block=block, departments=tuple(action.departments), period=action.period)
    else:
        for i, (heading, sentence) in enumerate(sentences):
            b.add(measure=m, section=None, field="action", text=sentence,
                  context=_measure_context(info, m, label, heading), order=i, block=block,
                  departments=tuple(action.departments), period=action.period)
    cells = tuple((k, v) for k, v in action.milestones.items() if re.fullmatch(r"R\d+", k))
    if cells:
        text = " / ".join(f"{k}: {v}" for k, v in cells)
        b.add(measure=m, section=None, field="milestone", text=text,
              context=_measure_context(info, m, "工程表", action.title), order=index, block=block, cells=cells,
              period=action.period)


def _kpi_facts(b: _Builder, m: Measure, kpi: KPI, index: int) -> None:
    """One fact per KPI line (大分市 lists several bullets under one year), with the target
    as written (【68,000件/累積】 or the table's 目標値) and the baseline split into value and date."""
    info = b.info
    when = kpi.year_label or _year_text(kpi.year)
    value, date = split_baseline(kpi.baseline) if kpi.baseline else ("", "")
    lines = [ln.strip(" ・") for ln in kpi.text.split("\n") if ln.strip(" ・")] or [kpi.text]
    for i, line in enumerate(lines):
        bracket = re.search(r"【([^】]+)】", line)
        target = kpi.target if len(lines) == 1 and kpi.target else (bracket.group(1) if bracket else "")
        text = line
        if target and target not in text:
            text += f"（目標値 {target}）"
        if value and value not in text:
            text += f"（現状値 {value}{'：' + date if date else ''}）"
        elif kpi.target and not kpi.baseline and "現状" not in text:
            text += "（現状値 —）"  # the table's baseline cell is 「—」: said, so no other line's baseline stands in
        b.add(measure=m, section=None, field="kpi", text=text, context=_measure_context(info, m, "KPI（目標）", when),
              order=index * 10 + i, block=f"kpi-{kpi.year or ''}", year=kpi.year, year_label=when,
              value=target, baseline=value, baseline_date=date)
    if value:
        name = kpi_name(KPI(lines[0]))
        b.add(measure=m, section=None, field="baseline", text=f"{name}の現状値は{value}" + (f"（{date}）" if date else ""),
              context=_measure_context(info, m, "KPIの現状値", date), order=index, block="baseline",
              baseline=value, baseline_date=date)


def _section_facts(b: _Builder, s: Section) -> None:
    info = b.info
    field = {"survey": "survey", "kgi": "kgi", "glossary": "glossary"}.get(s.kind, "section")
    for i, (heading, sentence) in enumerate(pieces(s.text)):
        context = f"{info.city} {info.title}｜{s.title}{(' ' + heading) if heading else ''}"
        b.add(measure=None, section=s, field=field, text=sentence, context=context, order=i, block=s.key)


_SUMMARY_ROW = re.compile(r"^(?P<policy>[^｜]+)｜(?P<project>[^:：]+)[:：]\s*(?P<cells>.+)$")
_SUMMARY_CELL = re.compile(r"^(R\d+)\s+(.+)$")


def _summary_rows(b: _Builder, s: Section, measures: dict[int, Measure]) -> Section:
    """A milestones overview (重点方針とマイルストーン): each row that names a measure
    (「重点方針5 …｜行政手続きのオンライン化の推進: R8 280手続 / …」) is a milestone fact of
    that measure; what is left stays the section's text."""
    label = re.escape(b.info.measure_label)
    rest = []
    for i, line in enumerate(s.text.split("\n")):
        row = _SUMMARY_ROW.match(line.strip())
        number = re.match(rf"^{label}\s*(\d+)", row.group("policy")) if row and label else None
        measure = measures.get(int(number.group(1))) if number else None
        cells = tuple(c.groups() for c in (_SUMMARY_CELL.match(x.strip()) for x in row.group("cells").split(" / ")) if c) \
            if row else ()
        if measure is None or not cells:
            rest.append(line)
            continue
        project = row.group("project").strip()
        b.add(measure=measure, section=None, field="milestone", text=" / ".join(f"{k}: {v}" for k, v in cells),
              context=_measure_context(b.info, measure, "工程表", project), order=100 + i, block=f"summary-{i}",
              cells=cells)
    return Section(s.plan, s.key, s.title, "\n".join(rest), kind=s.kind)


def _drop_restated_kpis(b: _Builder, s: Section, measures: dict[int, Measure]) -> Section:
    """An overview line that restates a measure's KPI (「重点方針7 …: 研修後の確認テストの平均点
    （現状値 — → 目標値 80点以上）」) is already that measure's KPI fact: the section keeps the rest,
    so an answer cites the measure, and the overview's rows do not run together into one sentence."""
    label = re.escape(b.info.measure_label)
    if not label:
        return s
    kept = []
    for line in s.text.split("\n"):
        row = re.match(rf"^\s*{label}\s*(\d+)[^:：]*[:：]\s*(?P<kpi>[^（(]+)", line)
        measure = measures.get(int(row.group(1))) if row else None
        name = row.group("kpi").strip() if row else ""
        if measure is not None and name and any(k.text.startswith(name) or name in k.text for k in measure.kpis):
            continue
        kept.append(line)
    return s if len(kept) == len(s.text.split("\n")) else Section(s.plan, s.key, s.title, "\n".join(kept), kind=s.kind)


# The plan's own sentence about its period: 「本計画の期間は、令和8年度から令和12年度までの5年間とします。」
_OWN_PERIOD = re.compile(r"(?:本|この)計画の(?:計画)?期間は[、，,\s]*(?P<span>[^。]{4,40}?)(?:とします|とする|です|となります)")
_PARENS = re.compile(r"（([^（）]*)）")


def _own_period(sections) -> str:
    """How the plan itself words its period (「令和8年度から令和12年度までの5年間」), when it does."""
    for s in sections:
        m = _OWN_PERIOD.search(re.sub(r"\s+", "", s.text))
        if m and re.search(r"\d", m.group("span")):
            return m.group("span")
    return ""


def extract_facts(parsed: ParsedPlan) -> list[Fact]:
    """Every fact of one parsed plan, in document order."""
    info = parsed.info
    b = _Builder(info)
    if info.period:
        period = Section(info.id, "plan", "計画期間", "", kind="intro")
        own = _own_period(parsed.sections)
        written = _PARENS.sub(r"、\1", info.period)  # 令和8年度～令和12年度、2026年度～2030年度
        said = f"{own}です（{written}）" if own else f"{info.period}です"
        b.add(measure=None, section=period, field="plan", text=f"{info.title}の計画期間は{said}。",
              context=f"{info.city} {info.title}｜計画期間", order=0, block="plan")
    visions = list(dict.fromkeys(name for m in parsed.measures for name in (m.visions or {})))
    if visions:
        section = Section(info.id, "visions", "3つの実現したい未来", "", kind="chapter")
        b.add(measure=None, section=section, field="section",
              text=f"各施策がつながる3つの実現したい未来【Vision】: {'、'.join(visions)}",
              context=f"{info.city} {info.title}｜3つの実現したい未来", order=0, block="visions")
    for m in parsed.measures:
        _measure_facts(b, m)
    for s in parsed.sections:
        if s.kind == "glossary":
            continue  # the glossary terms below are the facts
        if s.kind == "milestones":
            s = _summary_rows(b, s, {m.number: m for m in parsed.measures})
        s = _drop_restated_kpis(b, s, {m.number: m for m in parsed.measures})
        _section_facts(b, s)
    for i, term in enumerate(parsed.glossary):
        section = Section(info.id, "glossary", "用語解説", "", kind="glossary")
        b.add(measure=None, section=section, field="glossary", text=f"{term.term}: {term.explanation}",
              context=f"{info.city} {info.title}｜用語解説 {term.term}", order=i, block="glossary")
    return b.facts


__all__ = ["FACT_FIELDS", "Fact", "extract_facts", "kpi_name", "pieces", "split_baseline"]
