"""The source panel shared by the チャット and 比較 tabs: card, KPI indicator picker
and KPI chart (gr.BarPlot), driven by pure data from :mod:`ui.source_card` and
:mod:`ui.kpi_chart`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from assistant.types import Citation
from ingest.records import Measure, PlanInfo
from ui.kpi_chart import BASELINE, CHART_COLUMNS, TARGET, KpiSeries, chart_rows, kpi_series, pick_series
from ui.source_card import source_card

logger = logging.getLogger(__name__)

CARD_HINT = '<p class="source-hint">根拠を選ぶと、計画の原文（該当箇所を強調）とKPIのグラフが表示されます。</p>'
COLORS = {BASELINE: "#9ca3af", TARGET: "#2563eb"}
CHART_HEIGHT = 260


@dataclass
class SourcePanel:
    """The components of one source panel (laid out by :func:`build_source_panel`)."""

    card: gr.HTML
    indicator: gr.Dropdown
    chart: gr.BarPlot
    series: gr.State

    @property
    def outputs(self) -> list[Any]:
        return [self.card, self.indicator, self.chart, self.series]


def chart_frame(series: KpiSeries) -> pd.DataFrame:
    """The chart's data: one row per point; 値 is the number written in the record."""
    return pd.DataFrame(chart_rows(series), columns=CHART_COLUMNS)


def chart_update(series: Sequence[KpiSeries], index: int | None) -> Any:
    """gr.BarPlot update for one series (hidden when there is nothing to chart)."""
    if index is None or not 0 <= index < len(series) or not series[index].chartable:
        return gr.update(value=None, visible=False)
    chosen = series[index]
    top = max(p.value for p in chosen.points)
    return gr.update(
        value=chart_frame(chosen), visible=True, title=chosen.name, y_title=chosen.unit or "値",
        sort=[p.axis for p in chosen.points], y_lim=[0, top * 1.15 if top > 0 else 1],
        x_title=f"現状値は{chosen.baseline_when}時点" if chosen.baseline_when else " ",
    )



def indicator_update(series: Sequence[KpiSeries], index: int) -> Any:
    """Indicator picker: shown when a measure has more than one chartable KPI."""
    choices = [(s.name, str(i)) for i, s in enumerate(series) if s.chartable]
    return gr.update(choices=choices, value=str(index) if index >= 0 else None, visible=len(choices) > 1)


def open_source(
    measure: Measure | None, plan_info: PlanInfo | None, citations: Sequence[Citation]
) -> tuple[Any, ...]:
    """Updates for (card, indicator, chart, series state) showing one measure or section."""
    series = kpi_series(measure) if measure is not None else []
    quote = " ".join(c.quote for c in citations if c.field == "kpi")
    index = pick_series(series, quote)
    html = source_card(measure, plan_info, citations, series)
    return html, indicator_update(series, index), chart_update(series, index), series


def empty_source(hint: str = CARD_HINT) -> tuple[Any, ...]:
    return hint, gr.update(choices=[], value=None, visible=False), gr.update(value=None, visible=False), []


def pick_indicator(choice: str | None, series: list[KpiSeries] | None) -> Any:
    try:
        return chart_update(series or [], int(str(choice)))
    except ValueError:
        return gr.update()


def build_source_panel(prefix: str, hint: str = CARD_HINT, side_by_side: bool = False) -> SourcePanel:
    """Card, indicator picker and chart, in the current layout context (stacked, or the
    card beside the chart on wide screens)."""
    if side_by_side:
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                card = gr.HTML(hint, elem_id=f"{prefix}source-card", elem_classes=["source-panel"])
            with gr.Column(scale=2, min_width=320):
                return _chart_part(prefix, card)
    card = gr.HTML(hint, elem_id=f"{prefix}source-card", elem_classes=["source-panel"])
    return _chart_part(prefix, card)


def _chart_part(prefix: str, card: gr.HTML) -> SourcePanel:
    indicator = gr.Dropdown([], label="グラフにする指標", visible=False, elem_id=f"{prefix}kpi-indicator")
    chart = gr.BarPlot(
        None, x="時点", y="値", color="種別", color_map=COLORS, tooltip="all", y_lim=[0, None],
        height=CHART_HEIGHT, label="KPIの推移（計画の数値）", visible=False, elem_id=f"{prefix}kpi-chart",
        x_title=" ", colors_in_legend=[], buttons=["fullscreen"],
    )
    series = gr.State([])
    indicator.input(pick_indicator, [indicator, series], chart, api_visibility="private", queue=False)
    return SourcePanel(card, indicator, chart, series)


def lookup_measure(assistant: Any, plan: str, number: str | int | None) -> Measure | None:
    """The measure record behind a citation (None for sections or a failed lookup)."""
    if number in (None, ""):
        return None
    try:
        return assistant.measure(plan, int(str(number)))
    except (TypeError, ValueError):
        return None
    except Exception:
        logger.exception("measure lookup failed")
        return None
