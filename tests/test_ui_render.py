"""Pure rendering helpers of the UI."""

from __future__ import annotations

import json

from test_ui_fakes import APP, MEASURES, ONLINE, PLANS

from assistant.types import Answer, Citation
from ui.render import (
    answer_to_api,
    answer_to_markdown,
    citation_label,
    filter_kpi_rows,
    kpi_rows,
    mark_quote,
    source_card,
)


def _citation(**kw) -> Citation:
    base = dict(plan="oita", measure="3", title="公式アプリの機能拡充", field="overview", quote="無料で利用")
    base.update(kw)
    return Citation(**base)


def test_answer_markdown_escapes_script() -> None:
    answer = Answer(question="<script>alert(1)</script>", text="<script>alert(1)</script> です",
                    citations=[_citation(quote="<b>引用</b>")])
    md = answer_to_markdown(answer, PLANS)
    assert "<script>" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "大分市 No.3 公式アプリの機能拡充" in md
    assert "施策概要" in md


def test_answer_markdown_shows_notice() -> None:
    md = answer_to_markdown(Answer(question="q", text="回答", notice="入力を整えました"))
    assert "入力を整えました" in md and "根拠" not in md


def test_citation_label() -> None:
    assert citation_label(_citation(), PLANS) == "大分市 No.3 公式アプリの機能拡充"
    assert citation_label(_citation(plan="nobeoka", measure="5", title="人材育成"), PLANS) == "延岡市 重点方針5 人材育成"
    assert citation_label(_citation(measure=None, title="はじめに", field="section"), PLANS) == "大分市 はじめに"
    assert citation_label(_citation(label="既定のラベル"), PLANS) == "既定のラベル"
    assert citation_label(_citation()) == "oita 3 公式アプリの機能拡充"


def test_source_card_marks_quote_and_has_kpi_table() -> None:
    card = source_card(APP, PLANS["oita"], _citation(quote="「大分市公式アプリ」を公開し、 無料で"))
    assert "大分市 No.3 公式アプリの機能拡充" in card
    assert "施策概要" in card
    assert "<mark>" in card and "無料で</mark>" in card  # whitespace/newline in the text is tolerated
    assert '<table class="kpi-table">' in card
    assert "2026(令和8)年度" in card and "76,000件" in card and "68,000件" in card
    assert "最終的な目標" in card


def test_source_card_nobeoka_shows_baseline_and_target() -> None:
    card = source_card(ONLINE, PLANS["nobeoka"], _citation(plan="nobeoka", measure="2", field="kpi",
                                                           quote="オンライン申請の利用率"))
    assert "延岡市 重点方針2" in card
    assert "<th>現状値</th>" in card and "<th>目標値</th>" in card
    assert "<td>40%</td>" in card and "<td>90%</td>" in card
    assert "<mark>オンライン申請の利用率</mark>" in card


def test_source_card_escapes_and_falls_back_to_quote() -> None:
    card = source_card(APP, PLANS["oita"], _citation(field="goal_state", quote="<script>x</script>"))
    assert "<script>" not in card
    assert "<mark>&lt;script&gt;x&lt;/script&gt;</mark>" in card
    section = source_card(None, PLANS["oita"], _citation(measure=None, field="section", title="はじめに", quote="本文"))
    assert "はじめに" in section and "本文" in section and "kpi-table" not in section


def test_mark_quote_with_ellipsis() -> None:
    html, found = mark_quote("ABCDEFGHIJ<>", "ABC…HIJ")
    assert found and html == "<mark>ABC</mark>DEFG<mark>HIJ</mark>&lt;&gt;"
    assert mark_quote("abc", "xyz") == ("abc", False)


def test_kpi_rows_and_filters() -> None:
    rows = kpi_rows(MEASURES, PLANS)
    assert ["大分市", 2026, "No.3", "公式アプリの機能拡充", "大分市公式アプリのダウンロード件数 【76,000件/累積】",
            "52,187件/累積：令和5年度末", "76,000件"] in rows
    assert ["延岡市", 2030, "重点方針2", "行かなくてもいい市役所の推進", "ぴったりサービスを活用したオンライン申請の利用率",
            "40%", "90%"] in rows
    assert len(rows) == 4
    assert len(filter_kpi_rows(rows, "", None, None)) == 4
    assert len(filter_kpi_rows(rows, None, "大分市", "すべて")) == 3
    assert len(filter_kpi_rows(rows, "", "すべて", 2026)) == 2
    assert len(filter_kpi_rows(rows, "", None, "2025年度")) == 1
    assert [r[2] for r in filter_kpi_rows(rows, "ｱﾌﾟﾘ 76,000", None, None)] == ["No.3"]  # width-insensitive
    assert filter_kpi_rows(rows, "存在しない", None, None) == []


def test_answer_to_api_is_json() -> None:
    answer = Answer(question="q", text="t", citations=[_citation()], latency_ms=3.0)
    data = answer_to_api(answer, PLANS)
    json.dumps(data, ensure_ascii=False)
    assert data["text"] == "t"
    assert data["citations"][0]["plan"] == "oita" and data["citations"][0]["measure"] == "3"
    assert data["citations"][0]["label"] == "大分市 No.3 公式アプリの機能拡充"
