"""Pure rendering helpers for the UI (no Gradio import).

Everything that reaches the browser goes through :func:`html.escape` first, so a
question or a plan text containing ``<script>`` is shown as text, never run.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from assistant.types import Answer, Citation
from ingest.records import KPI, Measure, PlanInfo

FIELD_NAMES: dict[str, str] = {
    "overview": "施策概要",
    "action": "取組",
    "background": "背景・課題",
    "kpi": "KPI",
    "final_goal": "最終的な目標",
    "goal_state": "目指すべき姿",
    "key_projects": "重点事業",
    "section": "本文",
    "glossary": "用語解説",
    "title": "施策名",
}

KPI_HEADERS = ["市", "年度", "番号", "施策", "KPI", "現状値", "目標値"]
ALL = "すべて"

_ELLIPSIS = re.compile(r"(?:…|\.\.\.|⋯)+")


def esc(text: object) -> str:
    """HTML-escape any value (None → empty string)."""
    return html.escape("" if text is None else str(text), quote=True)


def field_name(field: str) -> str:
    """Japanese name of a citation field (unknown fields are shown as given)."""
    return FIELD_NAMES.get(field, field or "本文")


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


def answer_to_markdown(answer: Answer, plans: Mapping[str, PlanInfo] | None = None) -> str:
    """Chat message for an answer: escaped text, notice and a numbered citations list."""
    parts = [esc(answer.text)]
    if answer.notice:
        parts.append(f"<small>※ {esc(answer.notice)}</small>")
    parts.append("<small>回答: " + ("計画の記載から抽出" if answer.backend == "extractive" else f"LLM（{esc(answer.backend)}）") + "</small>")
    if answer.citations:
        lines = ["**根拠**"]
        for i, c in enumerate(answer.citations, 1):
            quote = f"「{esc(_short(c.quote, 80))}」" if c.quote else ""
            lines.append(f"{i}. {esc(citation_label(c, plans))}（{esc(field_name(c.field))}）{quote}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- source card


def field_text(measure: Measure, field: str) -> str:
    """The text of one field of a measure ("" when the field has no text)."""
    if field == "action":
        return "\n".join(f"{a.title}：{a.text}" if a.title else a.text for a in measure.actions)
    if field == "kpi":
        return "\n".join(k.text for k in measure.kpis)
    if field == "final_goal":
        return measure.final_goal.text if measure.final_goal else ""
    if field == "key_projects":
        return "、".join(measure.key_projects)
    if field == "title":
        return measure.title
    value = getattr(measure, field, "") if field in {"overview", "background", "goal_state"} else ""
    return value if isinstance(value, str) else ""


def _quote_spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Where the quote (or its pieces around an ellipsis) occurs in text, ignoring whitespace."""
    spans: list[tuple[int, int]] = []
    pieces = [p.strip() for p in _ELLIPSIS.split(quote or "")]
    for piece in sorted((p for p in pieces if len(p) >= 2), key=len, reverse=True):
        chars = [re.escape(ch) for ch in piece if not ch.isspace()]
        if not chars:
            continue
        found = re.search(r"\s*".join(chars), text)
        if found and not any(s < found.end() and found.start() < e for s, e in spans):
            spans.append(found.span())
    return sorted(spans)


def mark_quote(text: str, quote: str) -> tuple[str, bool]:
    """Escape text and wrap the quoted passage in <mark>; returns (html, found)."""
    spans = _quote_spans(text, quote)
    out, pos = [], 0
    for start, end in spans:
        out.append(esc(text[pos:start]))
        out.append(f"<mark>{esc(text[start:end])}</mark>")
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out), bool(spans)


def _has_baseline(kpis: Iterable[KPI]) -> bool:
    return any(k.baseline for k in kpis)


def kpi_table(kpis: list[KPI]) -> str:
    """HTML table of a measure's KPIs: 年度 × 指標 × 目標値 (with 現状値 when known)."""
    if not kpis:
        return ""
    baseline = _has_baseline(kpis)
    head = ["年度", "指標"] + (["現状値"] if baseline else []) + ["目標値"]
    rows = []
    for k in kpis:
        year = k.year_label or (f"{k.year}年度" if k.year else "")
        target = k.target or "、".join(k.targets)
        cells = [year, k.text] + ([k.baseline or ""] if baseline else []) + [target]
        rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"
    return f'<table class="kpi-table"><thead>{header}</thead><tbody>{"".join(rows)}</tbody></table>'


def source_card(measure: Measure | None, plan_info: PlanInfo | None, citation: Citation) -> str:
    """HTML card for a citation: measure title, cited field with the quote marked, KPI table."""
    city = plan_info.city if plan_info else citation.plan
    if measure is not None:
        name = plan_info.measure_name(measure.number) if plan_info else f"{city} {measure.number}"
        heading = f"{name} {measure.title}"
        text = field_text(measure, citation.field)
    else:
        heading = f"{city} {citation.title}".strip()
        text = ""
    body, found = mark_quote(text, citation.quote) if text else ("", False)
    parts = ['<div class="source-card">', f'<h3 class="source-title">{esc(heading)}</h3>']
    if plan_info is not None:
        parts.append(f'<p class="source-plan">{esc(plan_info.title)}</p>')
    parts.append(f'<p class="source-field">引用元：<strong>{esc(field_name(citation.field))}</strong></p>')
    if body:
        parts.append(f'<div class="source-text" style="white-space: pre-wrap">{body}</div>')
    if citation.quote and not found:
        parts.append(f'<blockquote class="source-quote"><mark>{esc(citation.quote)}</mark></blockquote>')
    if measure is not None and measure.kpis:
        parts.append('<p class="source-field"><strong>KPI</strong></p>')
        parts.append(kpi_table(measure.kpis))
    if measure is not None and measure.final_goal and citation.field != "final_goal":
        goal = measure.final_goal
        when = f"（{goal.target_year_text}）" if goal.target_year_text else ""
        parts.append(f'<p class="source-goal">最終的な目標{esc(when)}：{esc(goal.text)}</p>')
    parts.append("</div>")
    return "\n".join(parts)


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
