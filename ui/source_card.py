"""The source card: one measure (or section) with its cited passages marked, its KPIs
as a table and, where the numbers allow, as chart data (no Gradio import).

Everything that reaches the browser goes through :func:`ui.render.esc` first, so a
question or a plan text containing ``<script>`` is shown as text, never run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from assistant.types import Citation
from ingest.records import KPI, Measure, PlanInfo
from ui.kpi_chart import BASELINE, KpiSeries
from ui.render import esc, field_name

_ELLIPSIS = re.compile(r"(?:…|\.\.\.|⋯)+")
MILESTONE_FIELD = "工程表"


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
    if field == "summary":
        return measure.overview or measure.goal_state
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


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def kpi_table(kpis: list[KPI], quotes: Iterable[str] = ()) -> str:
    """HTML table of a measure's KPIs: 年度 × 指標 × 目標値 (with 現状値 when known);
    the rows a citation quotes are marked."""
    if not kpis:
        return ""
    cited = [_squeeze(q) for q in quotes if q]
    baseline = any(k.baseline for k in kpis)
    head = ["年度", "指標"] + (["現状値"] if baseline else []) + ["目標値"]
    rows = []
    for k in kpis:
        year = k.year_label or (f"{k.year}年度" if k.year else "")
        target = k.target or "、".join(k.targets)
        cells = [esc(c) for c in [year, k.text] + ([k.baseline or ""] if baseline else []) + [target]]
        key = _squeeze(k.text)
        if key and any(key[:30] in q or (len(q) >= 6 and q.rstrip("…") in key) for q in cited):
            cells[1] = f"<mark>{cells[1]}</mark>"
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"
    return f'<div class="table-scroll"><table class="kpi-table"><thead>{header}</thead><tbody>{"".join(rows)}</tbody></table></div>'


def milestone_table(measure: Measure) -> str:
    """工程表: one row per action with year columns (R8 … R12), when the plan has them."""
    actions = [a for a in measure.actions if a.milestones and set(a.milestones) - {"note"}]
    if not actions:
        return ""
    years = list(dict.fromkeys(y for a in actions for y in a.milestones if y != "note"))
    header = "<tr><th>取組</th>" + "".join(f"<th>{esc(y)}</th>" for y in years) + "</tr>"
    rows = []
    for a in actions:
        cells = [a.title or a.text[:40]] + [a.milestones.get(y, "") for y in years]
        rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    return (f'<div class="table-scroll"><table class="kpi-table milestone-table"><thead>{header}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def departments(measure: Measure) -> list[str]:
    return list(dict.fromkeys(d for a in measure.actions for d in a.departments))


def period(measure: Measure) -> str:
    """The measure's period as the plan writes it (令和7年度～令和8年度), else its actions' years."""
    written = list(dict.fromkeys(a.period for a in measure.actions if a.period))
    if len(written) == 1:
        return written[0]
    years = sorted({y for a in measure.actions for y in a.years} | {k.year for k in measure.kpis if k.year})
    if not years:
        return ""
    return f"{years[0]}年度" if len(years) == 1 else f"{years[0]}〜{years[-1]}年度"


def kpi_steps(series: KpiSeries) -> str:
    """A charted series in words: 「現状値（令和5年度末）52,187件 → 2025(令和7)年度 68,000件 → …」."""
    return " → ".join(f"{p.label} {p.written.split('：')[0] if p.kind == BASELINE else p.written}" for p in series.points)


def kpi_text(series: Sequence[KpiSeries]) -> str:
    """Each KPI in words: charted ones as their steps (what the chart shows), the others
    as written (「…を実施する」 stays text, never a broken chart)."""
    items = []
    for s in series:
        body = esc(kpi_steps(s)) if s.chartable else "<br>".join(esc(t) for t in s.texts)
        kind = "kpi-charted" if s.chartable else "kpi-plain"
        items.append(f'<li class="{kind}"><strong>{esc(s.name)}</strong><br>{body}</li>')
    return f'<ul class="kpi-text">{"".join(items)}</ul>' if items else ""


def _heading(measure: Measure | None, plan_info: PlanInfo | None, citation: Citation) -> str:
    city = plan_info.city if plan_info else citation.plan
    if measure is None:
        return f"{city} {citation.title}".strip()
    name = plan_info.measure_name(measure.number) if plan_info else f"{city} {measure.number}"
    return f"{name} {measure.title}"


def source_card(
    measure: Measure | None,
    plan_info: PlanInfo | None,
    citations: Citation | Iterable[Citation],
    series: Sequence[KpiSeries] = (),
) -> str:
    """HTML card for one measure or section: each cited field with its quote marked,
    the KPI table, KPIs that are not charted as text, the 工程表 and the final goal."""
    cited = [citations] if isinstance(citations, Citation) else list(citations)
    if not cited:
        return ""
    parts = ['<div class="source-card">', f'<h3 class="source-title">{esc(_heading(measure, plan_info, cited[0]))}</h3>']
    if plan_info is not None:
        parts.append(f'<p class="source-plan">{esc(plan_info.title)}</p>')
    for citation in cited:
        name = field_name(citation.field, citation.quote)
        text = field_text(measure, citation.field) if measure is not None else ""
        body, found = mark_quote(text, citation.quote) if text else ("", False)
        parts.append(f'<p class="source-field">引用元：<strong>{esc(name)}</strong></p>')
        # the KPI table shows the KPI text; long action lists only where the quote is found
        if body and citation.field != "kpi" and (found or citation.field != "action"):
            parts.append(f'<div class="source-text">{body}</div>')
        if citation.quote and not found:
            parts.append(f'<blockquote class="source-quote"><mark>{esc(citation.quote)}</mark></blockquote>')
    if measure is not None:
        parts.extend(measure_facts(measure, series, [c.quote for c in cited if c.field == "kpi"]))
    parts.append("</div>")
    return "\n".join(p for p in parts if p)


def measure_facts(measure: Measure, series: Sequence[KpiSeries] = (), kpi_quotes: Iterable[str] = ()) -> list[str]:
    """The card's fixed part: KPI table and text, 工程表, departments, period, final goal."""
    parts = []
    if measure.kpis:
        parts.append('<p class="source-field"><strong>KPI</strong></p>')
        parts.append(kpi_table(measure.kpis, kpi_quotes))
        parts.append(kpi_text(series))
    table = milestone_table(measure)
    if table:
        parts.append(f'<p class="source-field"><strong>{MILESTONE_FIELD}</strong></p>')
        parts.append(table)
    facts = []
    if departments(measure):
        facts.append(f"担当：{'、'.join(departments(measure))}")
    if period(measure):
        facts.append(f"期間：{period(measure)}")
    if facts:
        parts.append(f'<p class="source-meta">{esc("　".join(facts))}</p>')
    if measure.final_goal:
        goal = measure.final_goal
        when = f"（{goal.target_year_text}）" if goal.target_year_text else ""
        parts.append(f'<p class="source-goal">最終目標{esc(when)}：{esc(goal.text)}</p>')
    return parts
