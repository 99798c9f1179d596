"""KPI chart data: the points are the numbers written in the parsed measure records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_ui_fakes import APP, PLANS

from assistant.types import Citation
from ingest.records import KPI, Measure, ParsedPlan, plan_from_dict
from ui.kpi_chart import baseline_date, chart_rows, kpi_series, parse_value, pick_series
from ui.source_card import kpi_text, source_card
from ui.source_view import chart_frame, open_source

RECORDS = Path(__file__).parent / "golden" / "records"


def _plan(plan_id: str) -> ParsedPlan:
    data = json.loads((RECORDS / f"{plan_id}.json").read_text(encoding="utf-8"))
    data["info"] = PLANS[plan_id].__dict__
    return plan_from_dict(data)


@pytest.fixture(scope="module")
def oita() -> ParsedPlan:
    return _plan("oita")


@pytest.fixture(scope="module")
def nobeoka() -> ParsedPlan:
    return _plan("nobeoka")


def test_parse_value_keeps_the_written_number_and_unit() -> None:
    assert parse_value("52,187件/累積：令和5年度末").__dict__ == {"number": 52187.0, "unit": "件", "prefix": ""}
    assert parse_value("累計：44件").number == 44.0
    assert parse_value("年間440,000件").__dict__ == {"number": 440000.0, "unit": "件", "prefix": "年間"}
    assert parse_value("92.4%：令和5年度末").number == 92.4
    assert parse_value("４００名以上").unit == "名以上"  # full-width digits
    assert parse_value("全国平均以上") is None and parse_value("") is None and parse_value(None) is None
    assert baseline_date("52,187件/累積：令和5年度末") == "令和5年度末"
    assert baseline_date("75,702人/累計:令和5年度末") == "令和5年度末"
    assert baseline_date("44%") == ""


def test_oita_app_downloads_baseline_then_each_years_target(oita) -> None:
    series = kpi_series(oita.measure(3))
    assert len(series) == 1 and series[0].chartable
    assert series[0].name == "大分市公式アプリのダウンロード件数" and series[0].unit == "件"
    assert chart_rows(series[0]) == [
        ["現状値", 52187.0, "52,187件/累積：令和5年度末", "現状値"],
        ["2025年度", 68000.0, "68,000件", "目標値"],
        ["2026年度", 76000.0, "76,000件", "目標値"],
    ]
    assert [p.label for p in series[0].points] == ["現状値（令和5年度末）", "2025(令和7)年度", "2026(令和8)年度"]
    assert series[0].baseline_when == "令和5年度末"


def test_oita_two_targets_a_year_make_two_series(oita) -> None:
    series = kpi_series(oita.measure(1))
    assert [s.name for s in series] == ["繁忙期の1時間以上の待ち時間発生日数の削減", "通常期における平均受付時間を短縮"]
    assert [[p.written for p in s.points] for s in series] == [["1割", "2割"], ["1割", "2割"]]


def test_nobeoka_baseline_to_r12_target(nobeoka) -> None:
    series = kpi_series(nobeoka.measure(2))
    assert [(s.name, chart_rows(s)) for s in series] == [
        ("マイナンバーカードの利用機会", [["現状値", 70.0, "70%", "現状値"], ["2030年度目標", 90.0, "90%", "目標値"]]),
        ("ぴったりサービスを活用したオンライン申請の利用率",
         [["現状値", 40.0, "40%", "現状値"], ["2030年度目標", 90.0, "90%", "目標値"]]),
    ]


def test_every_charted_point_is_a_number_from_its_record(oita, nobeoka) -> None:
    charted = 0
    for plan in (oita, nobeoka):
        for measure in plan.measures:
            written = {k.baseline for k in measure.kpis} | {t for k in measure.kpis for t in [*k.targets, k.target]}
            for series in kpi_series(measure):
                for point in series.points:
                    charted += 1
                    assert point.written in written, (measure.plan, measure.number, point)
                    assert point.value == parse_value(point.written).number
    assert charted > 50


def test_non_numeric_kpis_are_text_not_charts(oita, nobeoka) -> None:
    studies = kpi_series(oita.measure(6))  # 「…事業実施計画を作成」
    assert studies and not any(s.chartable for s in studies)
    html = kpi_text(studies)
    assert "kpi-plain" in html and "事業実施計画を作成" in html
    national = kpi_series(oita.measure(28))  # 「全国平均以上」: a baseline but no numeric target
    assert not any(s.chartable for s in national)
    single = kpi_series(nobeoka.measure(5))  # one R12 target each, no baseline
    assert not any(s.chartable for s in single) and "70%削減" in kpi_text(single)
    mixed = Measure(plan="oita", number=99, title="混在", kpis=[
        KPI(text="件数 【10件】", year=2025, year_label="2025年度", targets=["10件"]),
        KPI(text="割合 【50%】", year=2026, year_label="2026年度", targets=["50%"])])
    assert not kpi_series(mixed)[0].chartable  # different units never share a chart


def test_pick_series_follows_the_cited_kpi(nobeoka) -> None:
    series = kpi_series(nobeoka.measure(2))
    assert pick_series(series, "ぴったりサービスを活用したオンライン申請の利用率 90%") == 1
    assert pick_series(series, "") == 0
    assert pick_series(kpi_series(nobeoka.measure(5)), "窓口待ち時間") == -1


def test_source_panel_chart_has_the_record_numbers() -> None:
    citation = Citation("oita", "3", APP.title, "kpi", "大分市公式アプリのダウンロード件数 【76,000件/累積】")
    html, indicator, chart, series = open_source(APP, PLANS["oita"], [citation])
    assert chart["visible"] is True and chart["y_title"] == "件" and chart["x_title"] == "現状値は令和5年度末時点"
    assert chart["value"].values.tolist() == chart_rows(series[0])
    assert chart["value"]["値"].tolist() == [52187.0, 68000.0, 76000.0]
    assert indicator["visible"] is False  # one chartable KPI: no picker
    assert "現状値（令和5年度末） 52,187件/累積 → 2025(令和7)年度 68,000件 → 2026(令和8)年度 76,000件" in html
    assert chart_frame(series[0]).columns.tolist() == ["時点", "値", "表記", "種別"]
    text_only = Measure(plan="oita", number=6, title="行動変容", kpis=[KPI(text="計画を作成", year=2025)])
    _, _, chart, _ = open_source(text_only, PLANS["oita"], [Citation("oita", "6", "行動変容", "kpi", "計画を作成")])
    assert chart["visible"] is False
    assert "kpi-plain" in source_card(text_only, PLANS["oita"], Citation("oita", "6", "t", "kpi", ""),
                                      kpi_series(text_only))


def test_indicator_picker_switches_the_chart(nobeoka) -> None:
    from ui.source_view import pick_indicator

    measure = nobeoka.measure(2)
    citation = Citation("nobeoka", "2", measure.title, "kpi", "ぴったりサービスを活用したオンライン申請の利用率")
    _, indicator, chart, series = open_source(measure, PLANS["nobeoka"], [citation])
    assert indicator["visible"] is True and indicator["value"] == "1"  # the cited KPI is charted first
    assert [c[0] for c in indicator["choices"]] == [s.name for s in series]
    assert chart["value"]["値"].tolist() == [40.0, 90.0]
    assert pick_indicator("0", series)["value"]["値"].tolist() == [70.0, 90.0]
    assert pick_indicator("9", series)["visible"] is False
