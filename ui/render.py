"""Pure rendering helpers for the UI (no Gradio import).

Everything that reaches the browser goes through :func:`html.escape` first, so a
question or a plan text containing ``<script>`` is shown as text, never run.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

from assistant.types import Answer, Citation
from ingest.records import Measure, PlanInfo

# Japanese names of citation fields; internal names (summary, llm ...) never reach the user.
FIELD_NAMES: dict[str, str] = {
    "summary": "概要",
    "overview": "概要",
    "goal_state": "目指す姿",
    "action": "取組",
    "milestones": "工程表",
    "background": "背景",
    "kpi": "KPI",
    "final_goal": "最終目標",
    "key_projects": "重点事業",
    "section": "本文",
    "glossary": "用語解説",
    "title": "施策名",
    "plan": "計画の概要",
}
DEFAULT_FIELD = "本文"
BACKEND_NAMES = {"extractive": "計画の記載から抽出（LLMなし）", "openai": "LLM（OpenAI互換）", "ollama": "LLM（Ollama）"}

KPI_HEADERS = ["市", "年度", "番号", "施策", "KPI", "現状値", "目標値"]
ALL = "すべて"

_MILESTONE_QUOTE = re.compile(r"^\s*(?:・\s*)?(?:R\d{1,2}|令和\d{1,2}年度)\s*[:：\s]")
_SENTENCE_END = re.compile(r"(?<=[。！？])")
LEAD_MAX_CHARS = 160
LIST_INTRO = (":", "：", "次のとおりです。", "書かれています。")  # a first line that only introduces a list


def esc(text: object) -> str:
    """HTML-escape any value (None → empty string)."""
    return html.escape("" if text is None else str(text), quote=True)


def field_name(field: str, quote: str = "") -> str:
    """Japanese name of a citation field: 概要, 取組, KPI, 背景, 最終目標, 工程表 …

    An action quote that starts with a year column (「R8 …」) comes from the 工程表.
    Unknown fields are shown as 本文, never by their internal name."""
    if field == "action" and _MILESTONE_QUOTE.match(quote or ""):
        return FIELD_NAMES["milestones"]
    return FIELD_NAMES.get(field, DEFAULT_FIELD)


def backend_name(backend: str) -> str:
    return BACKEND_NAMES.get(backend, backend or BACKEND_NAMES["extractive"])


def _plan_info(plans: Mapping[str, PlanInfo] | None, plan: str) -> PlanInfo | None:
    return plans.get(plan) if plans else None


def citation_label(c: Citation, plans: Mapping[str, PlanInfo] | None = None) -> str:
    """Display name of a citation, e.g. 「大分市 No.3 公式アプリの機能拡充」."""
    if c.label:
        return c.label
    info = _plan_info(plans, c.plan)
    if info is not None:
        head = info.measure_name(c.measure) if c.measure else info.city
    else:
        head = f"{c.plan} {c.measure}" if c.measure else c.plan
    return f"{head} {c.title}".strip()


@dataclass
class SourceGroup:
    """All citations of one measure (or one section): one chip in the source list."""

    plan: str
    measure: str | None
    label: str
    citations: list[Citation] = field(default_factory=list)

    @property
    def fields(self) -> list[str]:
        """Japanese field names, each once, in citation order."""
        return list(dict.fromkeys(field_name(c.field, c.quote) for c in self.citations))

    @property
    def chip(self) -> str:
        return f"{self.label}｜{'・'.join(self.fields)}"


def source_groups(citations: Iterable[Citation], plans: Mapping[str, PlanInfo] | None = None) -> list[SourceGroup]:
    """Citations grouped per measure (sections per title), in first-cited order."""
    groups: dict[tuple[str, str, str], SourceGroup] = {}
    for c in citations:
        key = (c.plan, c.measure or "", "" if c.measure else c.title)
        group = groups.get(key)
        if group is None:
            group = groups[key] = SourceGroup(c.plan, c.measure, citation_label(c, plans))
        group.citations.append(c)
    return list(groups.values())


def split_lead(answer: Answer) -> tuple[str, str]:
    """(direct answer, supporting text). Uses ``answer.lead`` when the engine sets it;
    otherwise the first sentence of the text — with the next line when the first
    line only introduces a list (「…のKPI:」「…は次のとおりです。」)."""
    text = (answer.text or "").strip()
    lead = (getattr(answer, "lead", "") or "").strip()
    if lead:
        rest = text[len(lead):] if text.startswith(lead) else text
        return lead, rest.strip()
    lines = text.split("\n")
    first = lines[0]
    if first.rstrip().endswith(LIST_INTRO) and len(lines) > 1:
        first = f"{first}\n{lines[1]}"
    sentences = [s for s in _SENTENCE_END.split(first) if s]
    if sentences and len(first) > LEAD_MAX_CHARS:
        first = sentences[0]
    return first.strip(), text[len(first):].strip()


def _md_lines(text: str) -> str:
    """Escaped text whose line breaks survive Markdown (list lines stay lines)."""
    return "\n".join(esc(line) if line.strip() else "" for line in text.split("\n"))


def answer_to_markdown(answer: Answer, plans: Mapping[str, PlanInfo] | None = None) -> str:
    """Chat message for an answer: the direct answer in bold on top, the supporting
    sentences, the notice, which backend answered, and one line per cited measure.

    Every piece of text is HTML-escaped, so nothing in a question or an answer runs."""
    lead, rest = split_lead(answer)
    parts = [f"**{_md_lines(lead)}**"] if lead else []
    if rest:
        parts.append(_md_lines(rest))
    if answer.notice:
        parts.append(f"<small>※ {esc(answer.notice)}</small>")
    groups = source_groups(answer.citations, plans)
    if groups:
        lines = ["根拠:"] + [f"{i}. {esc(g.label)}（{esc('・'.join(g.fields))}）" for i, g in enumerate(groups, 1)]
        parts.append("\n".join(lines))
    ms = answer.latency_ms
    seconds = "" if not ms else f"・{ms:.0f}ミリ秒" if ms < 1000 else f"・{ms / 1000:.1f}秒"
    parts.append(f'<small class="answer-backend">回答: {esc(backend_name(answer.backend))}{seconds}</small>')
    return "\n\n".join(parts)


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- KPI browser


def kpi_rows(measures: Iterable[Measure], plans: Mapping[str, PlanInfo]) -> list[list[Any]]:
    """One row per KPI: [市, 年度, 番号, 施策, KPI, 現状値, 目標値] ("" when unknown)."""
    rows: list[list[Any]] = []
    for m in measures:
        info = plans.get(m.plan)
        city = info.city if info else m.plan
        number = f"{info.measure_label}{m.number}" if info else str(m.number)
        for k in m.kpis:
            target = k.target or "、".join(k.targets)
            rows.append([city, k.year or "", number, m.title, k.text, k.baseline or "", target])
    return rows


def _norm(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).casefold()


def filter_kpi_rows(
    rows: list[list[Any]], query: str | None = None, plan: str | None = None, year: object = None
) -> list[list[Any]]:
    """Rows whose text contains every word of query, in the city ``plan`` and fiscal ``year``.

    ``None``, "" and 「すべて」 mean no filter; query matching ignores case and width.
    """
    words = _norm(query or "").split()
    want_plan = None if plan in (None, "", ALL) else str(plan)
    want_year = None if year in (None, "", ALL) else str(year).removesuffix("年度")
    out = []
    for row in rows:
        if want_plan is not None and str(row[0]) != want_plan:
            continue
        if want_year is not None and str(row[1]) != want_year:
            continue
        haystack = _norm(" ".join(str(c) for c in row))
        if all(w in haystack for w in words):
            out.append(row)
    return out


# --------------------------------------------------------------------------- API


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def answer_to_api(answer: Answer, plans: Mapping[str, PlanInfo] | None = None) -> dict[str, Any]:
    """The answer as a JSON-able dict; citation labels are filled in when missing."""
    data = _jsonable(answer.to_dict() if hasattr(answer, "to_dict") else answer)
    for c, raw in zip(data.get("citations", []), answer.citations, strict=False):
        c["label"] = citation_label(raw, plans)
    return data
