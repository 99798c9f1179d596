"""Turn parsed records into chunks: one per measure field, per section paragraph group.

Each chunk carries a short header (plan, measure number and title, field) so it
reads on its own, and metadata for filtering. IDs derive from content, so the
same input always gives the same IDs and re-ingesting never duplicates.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

from ingest.records import KPI, Action, Measure, ParsedPlan, PlanInfo

MAX_CHARS = 400

FIELD_LABELS: dict[str, str] = {
    "summary": "施策の要約",
    "overview": "施策概要",
    "goal_state": "目指すべき姿",
    "action": "取組",
    "background": "背景・課題",
    "kpi": "KPI（目標）",
    "final_goal": "最終的な目標",
    "key_projects": "重点事業",
    "section": "本文",
    "glossary": "用語解説",
}


@dataclass
class Chunk:
    id: str
    plan: str
    measure: str | None  # measure number as a string, None for sections
    title: str  # measure title or section title
    field: str
    text: str  # body without header
    header: str
    year: int | None = None
    section: str = ""  # section key for non-measure chunks

    @property
    def embed_text(self) -> str:
        return f"{self.header}\n{self.text}"

    def metadata(self) -> dict[str, str | int]:
        """Chroma metadata: scalars only, no None."""
        return {
            "plan": self.plan,
            "measure": self.measure or "",
            "title": self.title,
            "field": self.field,
            "year": self.year or 0,
            "section": self.section,
        }

    def to_dict(self) -> dict:
        return asdict(self)


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Paragraph groups of at most ``limit`` characters, cut at sentence ends."""
    pieces: list[str] = []
    for para in [p.strip() for p in re.split(r"\n\s*\n|\n(?=[・●◎○■◆★▲【])", text) if p.strip()]:
        if len(para) <= limit:
            pieces.append(para)
            continue
        sentences = [s for s in re.split(r"(?<=[。！？])", para) if s.strip()]
        buf = ""
        for sentence in sentences:
            while len(sentence) > limit:  # a single run-on sentence
                pieces.append((buf + sentence[: limit - len(buf)]).strip())
                sentence, buf = sentence[limit - len(buf) :], ""
            if len(buf) + len(sentence) > limit and buf:
                pieces.append(buf.strip())
                buf = ""
            buf += sentence
        if buf.strip():
            pieces.append(buf.strip())
    groups: list[str] = []
    for piece in pieces:
        if groups and len(groups[-1]) + len(piece) + 1 <= limit:
            groups[-1] += "\n" + piece
        else:
            groups.append(piece)
    return groups


def _chunk_id(plan: str, key: str, text: str) -> str:
    return hashlib.sha1(f"{plan}\x1f{key}\x1f{text}".encode()).hexdigest()[:20]


def measure_header(info: PlanInfo, measure: Measure, field: str, year: int | None = None) -> str:
    label = FIELD_LABELS.get(field, field)
    when = f" {year}年度（令和{year - 2018}年度）" if year else ""
    return f"{info.measure_name(measure.number)} {measure.title}｜{label}{when}"


def format_action(action: Action) -> str:
    parts = [action.title, action.text] if action.title and action.title not in action.text else [action.text]
    meta = []
    if action.period:
        meta.append(f"期間: {action.period}")
    if action.departments:
        meta.append(f"担当: {'、'.join(action.departments)}")
    if action.milestones:
        meta.append("工程: " + " / ".join(f"{k} {v}" for k, v in action.milestones.items()))
    return "\n".join([p for p in parts if p] + meta)


def format_kpi(kpi: KPI) -> str:
    text = kpi.text
    if kpi.target:
        text += f"（現状値 {kpi.baseline or '—'} → 目標値 {kpi.target}）"
    elif kpi.baseline:
        text += f"（現状値 {kpi.baseline}）"
    elif kpi.targets and not all(t in text for t in kpi.targets):
        text += f"【{'・'.join(kpi.targets)}】"
    return text


def measure_summary(measure: Measure) -> str:
    """The measure as a whole in a few lines, so a question about its topic finds it
    even when no single field says it all (the dense model sees only ~128 tokens)."""
    lead = re.split(r"(?<=。)", (measure.overview or measure.goal_state).replace("\n", ""))[0][:150]
    actions = "、".join((a.title or a.text)[:40] for a in measure.actions[:4])
    parts = [measure.title, lead, f"取組: {actions}" if actions else ""]
    return "\n".join(p for p in parts if p)


def _measure_fields(measure: Measure) -> list[tuple[str, str, int | None]]:
    fields: list[tuple[str, str, int | None]] = [("summary", measure_summary(measure), None)]
    if measure.overview:
        fields.append(("overview", measure.overview, None))
    if measure.goal_state:
        fields.append(("goal_state", measure.goal_state, None))
    if measure.key_projects:
        fields.append(("key_projects", "、".join(measure.key_projects), None))
    for action in measure.actions:
        fields.append(("action", format_action(action), None))
    if measure.background:
        fields.append(("background", measure.background, None))
    by_year: dict[int | None, list[str]] = {}
    for kpi in measure.kpis:
        by_year.setdefault(kpi.year, []).append(format_kpi(kpi))
    for year, lines in by_year.items():
        fields.append(("kpi", "\n".join(lines), year))
    if measure.final_goal:
        goal = measure.final_goal
        when = f"達成見込み年度: {goal.target_year_text or goal.target_year}\n" if (goal.target_year_text or goal.target_year) else ""
        fields.append(("final_goal", when + goal.text, goal.target_year))
    return fields


def chunk_plan(parsed: ParsedPlan) -> list[Chunk]:
    info = parsed.info
    chunks: list[Chunk] = []
    for measure in parsed.measures:
        for field, body, year in _measure_fields(measure):
            for part in split_text(body):
                header = measure_header(info, measure, field, year if field == "kpi" else None)
                key = f"m{measure.number}:{field}:{year or ''}"
                chunks.append(
                    Chunk(_chunk_id(info.id, key, part), info.id, str(measure.number), measure.title, field, part, header, year)
                )
    for section in parsed.sections:
        for part in split_text(section.text):
            header = f"{info.city} {info.title}｜{section.title}"
            chunks.append(
                Chunk(_chunk_id(info.id, f"s:{section.key}", part), info.id, None, section.title, "section", part, header,
                      section=section.key)
            )
    for term in parsed.glossary:
        body = f"{term.term}: {term.explanation}"
        header = f"{info.city} {info.title}｜用語解説 {term.term}"
        chunks.append(Chunk(_chunk_id(info.id, "g", body), info.id, None, term.term, "glossary", body, header,
                            section="glossary"))
    return _dedupe(chunks)


def _dedupe(chunks: list[Chunk]) -> list[Chunk]:
    seen: set[str] = set()
    unique = []
    for chunk in chunks:
        if chunk.id not in seen:
            seen.add(chunk.id)
            unique.append(chunk)
    return unique
