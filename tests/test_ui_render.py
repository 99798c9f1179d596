"""Pure rendering helpers of the UI."""

from __future__ import annotations

import json

from test_ui_fakes import APP, MEASURES, ONLINE, PLANS

from assistant.types import Answer, Citation
from ui.render import (
    answer_to_api,
    answer_to_markdown,
    citation_label,
    field_name,
    filter_kpi_rows,
    kpi_rows,
    source_groups,
    split_lead,
)
from ui.source_card import mark_quote, source_card


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
    assert "（概要）" in md and "overview" not in md


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
    assert "<strong>概要</strong>" in card
    assert "<mark>" in card and "無料で</mark>" in card  # whitespace/newline in the text is tolerated
    assert '<table class="kpi-table">' in card
    assert "2026(令和8)年度" in card and "76,000件" in card and "68,000件" in card
    assert "最終目標（2030年度（令和12年度））" in card


def test_source_card_nobeoka_shows_baseline_and_target() -> None:
    card = source_card(ONLINE, PLANS["nobeoka"], _citation(plan="nobeoka", measure="2", field="kpi",
                                                           quote="オンライン申請の利用率"))
    assert "延岡市 重点方針2" in card
    assert "<th>現状値</th>" in card and "<th>目標値</th>" in card
    assert "<td>40%</td>" in card and "<td>90%</td>" in card
    assert "<td><mark>ぴったりサービスを活用したオンライン申請の利用率</mark></td>" in card  # the cited KPI row


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


def test_field_names_are_japanese() -> None:
    for field, name in [("overview", "概要"), ("summary", "概要"), ("action", "取組"), ("kpi", "KPI"),
                        ("background", "背景"), ("final_goal", "最終目標"), ("section", "本文"),
                        ("glossary", "用語解説"), ("llm", "本文"), ("", "本文")]:
        assert field_name(field) == name
    assert field_name("action", "R8 オンライン手続きの拡充: 拡充") == "工程表"
    assert field_name("action", "・令和9年度：システム構築") == "工程表"
    assert field_name("action", "窓口の業務フローを見直す") == "取組"


def test_one_source_group_per_measure() -> None:
    citations = [
        _citation(field="summary", quote="公式アプリ"),
        _citation(field="kpi", quote="ダウンロード件数"),
        _citation(field="overview", quote="無料で利用"),
        _citation(plan="nobeoka", measure="2", title="行かなくてもいい市役所の推進", field="kpi", quote="利用率"),
        _citation(measure=None, title="市民アンケート", field="section", quote="回答率"),
        _citation(measure=None, title="はじめに", field="section", quote="計画"),
    ]
    groups = source_groups(citations, PLANS)
    assert [g.chip for g in groups] == [
        "大分市 No.3 公式アプリの機能拡充｜概要・KPI",
        "延岡市 重点方針2 行かなくてもいい市役所の推進｜KPI",
        "大分市 市民アンケート｜本文",
        "大分市 はじめに｜本文",
    ]
    assert len(groups[0].citations) == 3
    answer = Answer(question="q", text="回答です。", citations=citations)
    md = answer_to_markdown(answer, PLANS)
    assert md.count("大分市 No.3 公式アプリの機能拡充") == 1  # one line per measure, not per field
    assert "summary" not in md and "（概要・KPI）" in md


def test_lead_first_then_supporting_text() -> None:
    answer = Answer(question="q", text="目標は76,000件です。根拠は計画のKPIです。\n次の行", lead="目標は76,000件です。")
    assert split_lead(answer) == ("目標は76,000件です。", "根拠は計画のKPIです。\n次の行")
    md = answer_to_markdown(answer, PLANS)
    assert md.startswith("**目標は76,000件です。**\n\n根拠は計画のKPIです。")
    # without a lead from the engine: the first sentence, with the list line after a 「…:」 heading
    assert split_lead(Answer(question="q", text="一文目です。二文目です。")) == ("一文目です。二文目です。", "")
    kpi = Answer(question="q", text="大分市 No.3「公式アプリ」の2026年度のKPI:\n・ダウンロード件数 76,000件\n・ほか")
    assert split_lead(kpi) == ("大分市 No.3「公式アプリ」の2026年度のKPI:\n・ダウンロード件数 76,000件", "・ほか")
    long = Answer(question="q", text="あ" * 100 + "。" + "い" * 100 + "。")
    assert split_lead(long)[0] == "あ" * 100 + "。"


def test_answer_markdown_shows_backend_and_never_raw_html() -> None:
    attack = "<img src=x onerror=alert(1)>"
    answer = Answer(question=attack, text=f"{attack} について", lead=f"{attack} について", backend="openai",
                    latency_ms=1234.0, citations=[_citation(quote=attack, title=attack)])
    md = answer_to_markdown(answer, PLANS)
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "LLM（OpenAI互換）・1.2秒" in md
    assert "計画の記載から抽出" in answer_to_markdown(Answer(question="q", text="t", latency_ms=12.0))


def test_lead_takes_the_first_item_after_a_list_intro() -> None:
    answer = Answer(question="q", text="No.22の取組と担当・期間は次のとおりです。\n・校務支援システムの改修【児童生徒支援課】\n・ほか")
    assert split_lead(answer)[0].endswith("【児童生徒支援課】")


def test_source_card_milestones_departments_period() -> None:
    from ingest.records import Action, Measure

    measure = Measure(plan="nobeoka", number=2, title="ITインフラ", actions=[
        Action(text="オンライン手続きを広げる", title="新たなサービス", years=[2026, 2027],
               milestones={"R8": "拡充 / 連携", "R9": "拡充"}, departments=["DX推進課"]),
        Action(text="基盤の方針を検討", milestones={"note": "年度列を特定できず"}),
    ])
    card = source_card(measure, PLANS["nobeoka"], _citation(plan="nobeoka", measure="2", field="action",
                                                            quote="R8 拡充 / 連携"))
    assert "<strong>工程表</strong>" in card and "<th>R8</th><th>R9</th>" in card
    assert "<td>拡充 / 連携</td>" in card and "年度列を特定できず" not in card  # parser notes stay out
    assert "担当：DX推進課" in card and "期間：2026〜2027年度" in card
