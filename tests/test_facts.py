"""The fact index: what ingest extracts from the parsed plans, and that it reads alone."""

from __future__ import annotations

from collections import Counter

import pytest

from assistant.settings import load_settings
from ingest.facts import Fact, extract_facts, pieces, split_baseline
from ingest.pipeline import parse_plans


@pytest.fixture(scope="module")
def facts() -> dict[str, list[Fact]]:
    return {p.info.id: extract_facts(p) for p in parse_plans(load_settings())}


def _find(facts: list[Fact], **where) -> list[Fact]:
    return [f for f in facts if all(getattr(f, k) == v for k, v in where.items())]


def test_every_measure_has_a_name_fact_and_facts_carry_their_place(facts):
    for plan, expected in (("oita", 32), ("nobeoka", 7)):
        names = _find(facts[plan], field="summary", block="summary")
        assert sorted(int(f.measure) for f in names) == list(range(1, expected + 1))
    for f in facts["oita"] + facts["nobeoka"]:
        assert f.context.startswith(("大分市", "延岡市")), f.context
        assert f.embed_text.startswith(f.context)


def test_counts_are_in_a_sane_range(facts):
    counts = {plan: Counter(f.field for f in fs) for plan, fs in facts.items()}
    assert 250 <= sum(counts["oita"].values()) <= 600
    assert 400 <= sum(counts["nobeoka"].values()) <= 900
    assert counts["oita"]["kpi"] >= 64  # 32 measures × 2 years, several bullets in some
    assert counts["oita"]["final_goal"] == 32
    assert counts["nobeoka"]["kpi"] == 15  # the KPI table's 15 rows
    assert counts["nobeoka"]["milestone"] >= 20
    assert counts["oita"]["glossary"] >= 10 and counts["nobeoka"]["survey"] >= 20


def test_kpi_lines_keep_year_target_and_baseline_with_its_date(facts):
    app = _find(facts["oita"], field="kpi", measure="3", year=2026)
    assert len(app) == 1
    assert app[0].value == "76,000件/累積" or app[0].value == "76,000件"
    assert app[0].baseline == "52,187件/累積" and app[0].baseline_date == "令和5年度末"
    base = _find(facts["oita"], field="baseline", measure="3")
    assert len(base) == 1 and "52,187件" in base[0].text and "令和5年度末" in base[0].text


def test_a_kpi_record_with_several_bullets_gives_one_fact_per_bullet(facts):
    no1 = _find(facts["oita"], field="kpi", measure="1", year=2025)
    assert len(no1) == 3
    assert any("1割/日数" in f.value for f in no1)


def test_nobeoka_kpi_rows_hold_current_and_target(facts):
    rows = _find(facts["nobeoka"], field="kpi", measure="2")
    texts = " ".join(f.text for f in rows)
    assert "40%" in texts and "90%" in texts
    assert all(f.year == 2030 for f in rows)


def test_milestone_rows_keep_their_r_year_cells(facts):
    online = [f for f in _find(facts["nobeoka"], field="milestone", measure="5") if "オンライン手続き数" in f.text]
    assert online, "重点方針5 のオンライン化の工程表がありません"
    cells = dict(online[0].cells)
    assert "500" in cells["R12"] and "280" in cells["R8"]
    assert all(k.startswith("R") for k, _ in online[0].cells)  # no 'note' column


def test_actions_keep_department_and_period(facts):
    app = _find(facts["oita"], field="action", measure="3")
    assert app and app[0].departments == ("DX推進課",) and app[0].period == "令和7年度～令和8年度"


def test_measure_22_without_header_still_has_facts(facts):
    no22 = _find(facts["oita"], measure="22")
    assert no22 and any("いじめ" in f.text or "不登校" in f.text for f in no22)


def test_narrative_sentences_are_separate_facts(facts):
    office = [f for f in facts["nobeoka"] if "事務局は情報政策課" in f.text]
    assert len(office) == 1
    assert office[0].field == "section" and "計画推進体制" in office[0].context
    assert len(office[0].text) < 200  # one sentence, not the whole section


def test_plan_period_is_a_fact(facts):
    period = _find(facts["nobeoka"], field="plan")
    assert period and "令和8年度～令和12年度" in period[0].text


def test_plan_period_keeps_the_plans_own_wording(facts):
    """A plan that words its period (本計画の期間は、…までの5年間とします) is quoted in its words,
    the manifest's span after it; a plan that does not keeps the manifest's span alone."""
    (nobeoka,) = _find(facts["nobeoka"], field="plan")
    assert "計画期間は令和8年度から令和12年度までの5年間です（令和8年度～令和12年度、2026年度～2030年度）" in nobeoka.text
    (oita,) = _find(facts["oita"], field="plan")
    assert oita.text.endswith("計画期間は2025年度～2026年度（令和7年度～令和8年度）です。")


@pytest.mark.parametrize("body, expected", [
    ("はじめに\n本計画の期間は、2024年度から2027年度までの4年間とします。", "2024年度から2027年度までの4年間"),
    ("この計画の計画期間は\n令和6年度～令和9年度です。見直しは随時行います。", "令和6年度～令和9年度"),
    ("本計画の期間は、社会情勢に応じて定めます。", ""),  # no year: not a period
    ("計画の期間については別に定めます。", ""),
])
def test_own_period_sentence(body, expected):
    from ingest.facts import _own_period
    from ingest.records import Section

    assert _own_period([Section("x", "intro", "はじめに", body, kind="chapter")]) == expected


def test_ids_are_stable_and_unique(facts):
    again = {p.info.id: extract_facts(p) for p in parse_plans(load_settings())}
    for plan in facts:
        ids = [f.id for f in facts[plan]]
        assert len(ids) == len(set(ids))
        assert ids == [f.id for f in again[plan]]


def test_fact_round_trips_through_json(facts):
    f = _find(facts["nobeoka"], field="milestone")[0]
    assert Fact.from_dict(f.to_dict()) == f


def test_pieces_carry_short_headings_and_split_sentences():
    text = "紙中心の申請\n本市の手続きは紙が主です。申請者は市役所に行く必要があります。\n・箇条書きの項目"
    got = pieces(text)
    assert got[0] == ("", "紙中心の申請")  # a heading is a line of its own too
    assert got[1] == ("紙中心の申請", "本市の手続きは紙が主です。")
    assert got[2][1] == "申請者は市役所に行く必要があります。"
    assert got[3][1] == "紙中心の申請 ・箇条書きの項目"  # short list items travel with their heading


def test_short_enumerations_are_one_fact_and_toc_lines_none():
    text = "3. 実施期間（5ページ）\n【令和8年度導入公金】\n① 後期高齢者医療保険料\n② 介護保険料\n③ 道路占用料"
    assert pieces(text)[-1] == ("【令和8年度導入公金】", "【令和8年度導入公金】 ① 後期高齢者医療保険料 ② 介護保険料 ③ 道路占用料")
    assert not any("ページ" in sentence for _, sentence in pieces(text))


@pytest.mark.parametrize(
    ("raw", "value", "date"),
    [
        ("52,187件/累積：令和5年度末", "52,187件/累積", "令和5年度末"),
        ("88.4%（令和5年度）", "88.4%", "令和5年度"),
        ("44%", "44%", ""),
    ],
)
def test_split_baseline(raw, value, date):
    assert split_baseline(raw) == (value, date)


def test_a_milestones_overview_row_belongs_to_the_measure_it_names(facts):
    rows = [f for f in _find(facts["nobeoka"], field="milestone", measure="5") if f.block.startswith("summary-")]
    online = next(f for f in rows if "行政手続きのオンライン化の推進" in f.context)
    assert dict(online.cells)["R8"] == "280手続" and dict(online.cells)["R12"] == "500手続"
    assert online.context.startswith("延岡市 重点方針5")
    left = [f for f in facts["nobeoka"] if f.field == "section" and "行政手続きのオンライン化の推進: R8" in f.text]
    assert not left  # the row is not also a section fact


def test_one_short_numbered_line_before_prose_heads_it():
    text = "①郵送調査の実施\n〈調査対象〉市民4,000人を無作為抽出。\n②SNSからの調査\n〈調査対象〉公式アカウントの登録者。"
    got = pieces(text)
    assert ("①郵送調査の実施", "〈調査対象〉市民4,000人を無作為抽出。") in got
    assert ("②SNSからの調査", "〈調査対象〉公式アカウントの登録者。") in got
    two = pieces("① 固定資産税\n② 軽自動車税\n本市ではこれらをeL-QRで納付できます。")
    assert two[0][1] == "① 固定資産税 ② 軽自動車税"  # two items stay a list, not a heading


def test_a_long_sentence_split_at_a_comma_keeps_the_clause_before_the_cut():
    subject = "担当の副市長が中心となって、"
    sentence = "本部の下に部会を置き、" * 22 + subject + "全体の進捗管理を行います。"  # the cut falls after the subject
    parts = [text for _, text in pieces(sentence)]
    assert len(parts) >= 2 and all(len(p) <= 260 for p in parts)
    assert any(p.startswith(subject) and p.endswith("進捗管理を行います。") for p in parts)


def test_an_overview_restating_kpis_leaves_them_to_the_measures(facts):
    """「重点方針とKPI」 restates each measure's KPI rows: they stay the measures' facts (cited as
    重点方針7), not one section sentence running several rows together."""
    section = [f for f in facts["nobeoka"] if f.field == "section" and "（現状値" in f.text and "→ 目標値" in f.text]
    assert not section, [f.text[:80] for f in section]
    tests = _find(facts["nobeoka"], field="kpi", measure="7")
    assert any("研修後の確認テストの平均点" in f.text for f in tests)
    assert any("KGI" in f.text for f in facts["nobeoka"] if f.section == "ch4-5")  # the rest stays


def test_a_table_baseline_of_a_dash_is_kept_in_the_kpi_fact(facts):
    (row,) = [f for f in _find(facts["nobeoka"], field="kpi", measure="6") if "理解度" in f.text]
    assert row.text.endswith("（目標値 50%以上）（現状値 —）") and row.baseline == ""
    (stated,) = [f for f in _find(facts["nobeoka"], field="kpi", measure="3") if "リテラシー" in f.text]
    assert "（現状値 25%）" in stated.text and "—" not in stated.text
