"""The 比較 tab: type a theme, see the closest measures of each plan side by side
(title, overview, KPIs, departments, period), and open any of them as a source card."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import gradio as gr

from assistant.compare import ComparedMeasure, Comparison, compare_theme
from assistant.types import Citation, InvalidQuestion
from ingest.records import PlanInfo
from ui.chat import INTERNAL_ERROR, AssistantLike
from ui.kpi_chart import kpi_series
from ui.render import esc, short
from ui.source_card import departments, period
from ui.source_view import build_source_panel, empty_source, lookup_measure, open_source

logger = logging.getLogger(__name__)

THEMES = ["窓口", "マイナンバー", "人材育成", "セキュリティ"]
COMPARE_HINT = '<p class="source-hint">施策を選ぶと、出典カード（原文とKPIのグラフ）が表示されます。</p>'
EMPTY_THEME = "テーマを入力してください（例：窓口、マイナンバー、人材育成）。"
OVERVIEW_CHARS = 120
KPI_LINES = 3


def kpi_summary(item: ComparedMeasure) -> list[str]:
    """Up to three KPI lines: 「指標：現状値 → 目標値 …」 as written in the plan."""
    lines = []
    for s in kpi_series(item.measure)[:KPI_LINES]:
        if s.chartable:
            lines.append(f"{s.name}：{' → '.join(p.written.split('：')[0] for p in s.points)}")
        elif s.texts:
            lines.append(f"{s.name}：{s.texts[-1].split('：', 1)[-1]}" if s.name not in s.texts[-1] else s.texts[-1])
    return [short(line, 90) for line in lines]


def measure_summary_html(item: ComparedMeasure, info: PlanInfo | None) -> str:
    """One measure of the comparison: name, overview, KPIs, departments, period."""
    m = item.measure
    name = info.measure_name(m.number) if info else f"{m.plan} {m.number}"
    parts = [f'<div class="compare-item" data-plan="{esc(m.plan)}" data-measure="{m.number}">',
             f'<h4>{esc(name)} {esc(m.title)}</h4>']
    overview = m.overview or m.goal_state
    if overview:
        parts.append(f'<p><span class="compare-key">概要</span>{esc(short(overview, OVERVIEW_CHARS))}</p>')
    kpis = kpi_summary(item)
    if kpis:
        parts.append('<p><span class="compare-key">KPI</span>' + "<br>".join(esc(k) for k in kpis) + "</p>")
    if departments(m):
        parts.append(f'<p><span class="compare-key">担当</span>{esc("、".join(departments(m)))}</p>')
    if period(m):
        parts.append(f'<p><span class="compare-key">期間</span>{esc(period(m))}</p>')
    parts.append("</div>")
    return "\n".join(parts)


def plan_column_html(comparison: Comparison, plan: str, info: PlanInfo | None) -> str:
    city = info.city if info else plan
    items = comparison.by_plan.get(plan) or []
    head = f'<h3 class="compare-city">{esc(city)}</h3>'
    if not items:
        return head + '<p class="compare-none">近い施策が見つかりませんでした。</p>'
    note = '<p class="compare-weak">※ このテーマに直接あたる施策は少ないようです（近いものを表示）。</p>' if comparison.weak(plan) else ""
    return head + note + "\n".join(measure_summary_html(item, info) for item in items)


def comparison_choices(comparison: Comparison, plans: Mapping[str, PlanInfo]) -> list[tuple[str, str]]:
    """Radio choices to open each compared measure: (「大分市 No.1 …」, "oita:1")."""
    out = []
    for plan, items in comparison.by_plan.items():
        info = plans.get(plan)
        for item in items:
            name = info.measure_name(item.measure.number) if info else f"{plan} {item.measure.number}"
            out.append((f"{name} {item.measure.title}", f"{plan}:{item.measure.number}"))
    return out


class CompareController:
    def __init__(self, assistant: AssistantLike) -> None:
        self.assistant = assistant

    @property
    def plan_ids(self) -> list[str]:
        return list(self.assistant.plans)

    def run(self, theme: str | None) -> tuple[Any, ...]:
        """(status, one HTML per plan, picker update, *empty source panel)."""
        blank = tuple("" for _ in self.plan_ids)
        hidden = gr.update(choices=[], value=None, visible=False)
        if not (theme or "").strip():
            return f"⚠️ {EMPTY_THEME}", *blank, hidden, *empty_source(COMPARE_HINT)
        try:
            comparison = compare_theme(self.assistant, theme or "")
        except InvalidQuestion as exc:
            return f"⚠️ {exc}", *blank, hidden, *empty_source(COMPARE_HINT)
        except Exception:
            logger.exception("comparison failed")
            return f"⚠️ {INTERNAL_ERROR}", *blank, hidden, *empty_source(COMPARE_HINT)
        plans = self.assistant.plans
        columns = tuple(plan_column_html(comparison, pid, plans.get(pid)) for pid in self.plan_ids)
        choices = comparison_choices(comparison, plans)
        status = f"「{esc(comparison.theme)}」に近い施策を計画ごとに表示しています。"
        return status, *columns, gr.update(choices=choices, value=None, visible=bool(choices)), *empty_source(COMPARE_HINT)

    def open(self, choice: str | None) -> tuple[Any, ...]:
        """Source panel for 「plan:number」."""
        plan, _, number = str(choice or "").partition(":")
        measure = lookup_measure(self.assistant, plan, number)
        if measure is None:
            return empty_source(COMPARE_HINT)
        citation = Citation(plan, str(measure.number), measure.title, "summary", "")  # 概要 (overview or goal state)
        return open_source(measure, self.assistant.plans.get(plan), [citation])


def build_compare_tab(controller: CompareController, concurrency_id: str) -> None:
    gr.Markdown("テーマを入れると、両市の計画からそれぞれ近い施策を並べて表示します。")
    with gr.Row(elem_id="compare-ask"):
        theme = gr.Textbox(show_label=False, placeholder="例：窓口、マイナンバー、人材育成、セキュリティ", scale=5,
                           elem_id="compare-theme", lines=1, max_lines=1)
        run = gr.Button("比較する", variant="primary", scale=1, min_width=90, elem_id="compare-run")
    with gr.Row():
        theme_buttons = [gr.Button(t, size="sm", elem_classes=["compare-example"]) for t in THEMES]
    status = gr.Markdown("", elem_id="compare-status")
    columns = []
    with gr.Row(elem_id="compare-columns", equal_height=False):
        for pid in controller.plan_ids:  # side by side; stacked on a phone
            with gr.Column(min_width=300):
                columns.append(gr.HTML("", elem_id=f"compare-{pid}", elem_classes=["compare-column"], min_height=0))
    pick = gr.Radio([], label="出典カードを開く", visible=False, elem_id="compare-pick", elem_classes=["source-chips"])
    panel = build_source_panel("compare-", COMPARE_HINT, side_by_side=True)
    outputs = [status, *columns, pick, *panel.outputs]
    compare_io = dict(fn=controller.run, inputs=[theme], outputs=outputs, api_visibility="private",
                      concurrency_id=concurrency_id)
    gr.on([run.click, theme.submit], **compare_io)
    for button, text in zip(theme_buttons, THEMES, strict=True):
        button.click(lambda t=text: t, None, theme, queue=False, api_visibility="private").then(**compare_io)
    pick.input(controller.open, [pick], panel.outputs, api_visibility="private", queue=False)
