"""Comparing the plans on a theme: the closest measures of each plan, side by side."""

from __future__ import annotations

import pytest
from test_ui_fakes import FakeAssistant

from assistant.compare import WEAK_MATCH, compare_theme
from assistant.types import InvalidQuestion
from ui.compare_view import COMPARE_HINT, EMPTY_THEME, CompareController, kpi_summary, measure_summary_html


def test_compare_with_the_real_retriever(fake_assistant) -> None:
    comparison = compare_theme(fake_assistant, "マイナンバーカード", per_plan=3)
    assert set(comparison.by_plan) == {"oita", "nobeoka"}
    oita = [m.measure.number for m in comparison.by_plan["oita"]]
    nobeoka = [m.measure.number for m in comparison.by_plan["nobeoka"]]
    assert 0 < len(oita) <= 3 and 0 < len(nobeoka) <= 3
    assert 4 in oita  # マイナンバーカードの利活用の促進
    assert 2 in nobeoka  # マイナンバーカードを含むITインフラの利活用
    assert all(m.measure.plan == "oita" for m in comparison.by_plan["oita"])
    assert len(set(oita)) == len(oita)  # each measure once
    assert not comparison.weak("oita") and comparison.by_plan["oita"][0].keyword > 0


def test_compare_embeds_the_theme_once(fake_assistant, monkeypatch) -> None:
    calls: list[str] = []
    cls = type(fake_assistant.embeddings)
    real = cls.embed_query
    monkeypatch.setattr(cls, "embed_query", lambda self, text: calls.append(text) or real(self, text))
    compare_theme(fake_assistant, "人材育成")
    assert calls == ["人材育成"]  # one embedding for both plans


def test_compare_through_ask_and_bad_themes() -> None:
    assistant = FakeAssistant()
    comparison = compare_theme(assistant, "アプリ", per_plan=2)
    assert [m.measure.number for m in comparison.by_plan["oita"]] == [3, 12]
    assert [m.measure.number for m in comparison.by_plan["nobeoka"]] == [2]
    assert [call[1] for call in assistant.calls] == ["oita", "nobeoka"]  # each plan searched on its own
    assert not comparison.weak("oita")  # no similarity known: not flagged
    for item in comparison.by_plan["oita"]:
        item.similarity, item.keyword = WEAK_MATCH - 0.1, 0.0
    assert comparison.weak("oita")  # neither the theme's words nor a close meaning
    comparison.by_plan["oita"][1].keyword = 3.2
    assert not comparison.weak("oita")
    with pytest.raises(InvalidQuestion):
        compare_theme(assistant, "   ")


def test_compare_view_side_by_side() -> None:
    controller = CompareController(FakeAssistant())
    status, oita, nobeoka, pick, card, indicator, chart, series = controller.run("アプリ")
    assert "「アプリ」" in status
    assert "<h3 class=\"compare-city\">大分市</h3>" in oita and "大分市 No.3 公式アプリの機能拡充" in oita
    assert "延岡市 重点方針2 行かなくてもいい市役所の推進" in nobeoka
    assert "52,187件/累積 → 68,000件 → 76,000件" in oita  # KPI: baseline → yearly targets
    assert "期間" in oita and "概要" in oita
    assert pick["choices"] == [("大分市 No.3 公式アプリの機能拡充", "oita:3"), ("大分市 No.12 橋梁点検のデジタル化", "oita:12"),
                               ("延岡市 重点方針2 行かなくてもいい市役所の推進", "nobeoka:2")]
    assert card == COMPARE_HINT
    card, indicator, chart, series = controller.open("oita:3")
    assert "大分市 No.3 公式アプリの機能拡充" in card and chart["visible"] is True
    assert "<strong>概要</strong>" in card and "無料で利用することができます" in card
    assert "オンラインで手続きが完結する市役所" in controller.open("nobeoka:2")[0]  # 延岡市: 目指す姿 as 概要
    assert controller.open("oita:99")[0] == COMPARE_HINT and controller.open(None)[0] == COMPARE_HINT
    assert controller.run("")[0] == f"⚠️ {EMPTY_THEME}"
    assert "長すぎます" in controller.run("あ" * 500)[0]


def test_compare_summary_escapes() -> None:
    from assistant.compare import ComparedMeasure
    from ingest.records import Measure

    item = ComparedMeasure(Measure(plan="oita", number=1, title="<b>x</b>", overview="<script>y</script>"), 1.0)
    html = measure_summary_html(item, None)
    assert "<script>" not in html and "<b>x" not in html and "&lt;script&gt;" in html
    assert kpi_summary(item) == []
