"""Parser tests for the 延岡市 plan, run against the real extracted text.

Regenerate the golden records after an intended parser change with
``PLANQA_UPDATE_GOLDEN=1 python -m pytest tests/test_parse_nobeoka.py``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from ingest.parsers.nobeoka import parse
from ingest.records import Action, Measure, ParsedPlan, PlanInfo

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "data" / "plans"
GOLDEN = ROOT / "tests" / "golden" / "records" / "nobeoka.json"
FORBIDDEN = ("<", "\t", "びったり", "й", "д", "**")
TITLES = {
    1: "データ利活用による各種分野のDXの推進",
    2: "マイナンバーカードを含むITインフラの利活用の推進",
    3: "デジタルデバイド対策とDX人材育成の推進",
    4: "生成AI等を活用した市民向けサービスの提供、業務効率化",
    5: "フロントヤード改革の推進による利便性向上及び業務効率化",
    6: "庁内のDX人材の確保・育成",
    7: "情報セキュリティ対策の徹底",
}
PAGE_HEADERS = ("第1章 計画策定にあたって", "第2章 DX施策の動向", "第3章 本市の現状と課題", "第4章 本市が取り組むDX")
YEAR_KEY = re.compile(r"^R\d{1,2}$")


@pytest.fixture(scope="module")
def source() -> tuple[str, PlanInfo]:
    manifest = json.loads((PLANS / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["plans"] if e["id"] == "nobeoka")
    info = PlanInfo(**entry)
    return (PLANS / info.source).read_text(encoding="utf-8"), info


@pytest.fixture(scope="module")
def plan(source: tuple[str, PlanInfo]) -> ParsedPlan:
    return parse(*source)


def measure(plan: ParsedPlan, number: int) -> Measure:
    found = plan.measure(number)
    assert found is not None, f"重点方針{number} missing"
    return found


def action(plan: ParsedPlan, title: str) -> Action:
    found = [a for m in plan.measures for a in m.actions if a.title == title]
    assert len(found) == 1, f"action {title!r}: {len(found)} found"
    return found[0]


def records(plan: ParsedPlan) -> dict[str, Any]:
    return {
        "measures": [m.to_dict() for m in plan.measures],
        "sections": [asdict(s) for s in plan.sections],
        "glossary": [asdict(g) for g in plan.glossary],
    }


def strings(value: Any) -> list[str]:
    """Every string inside a record (dict keys included), however deep."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


def test_seven_policies_in_order(plan: ParsedPlan) -> None:
    assert [m.number for m in plan.measures] == list(range(1, 8))
    assert {m.number: m.title for m in plan.measures} == TITLES
    assert all(m.plan == "nobeoka" for m in plan.measures)


def test_categories_and_key_projects(plan: ParsedPlan) -> None:
    assert [m.category for m in plan.measures] == ["地域DX"] * 3 + ["行政DX"] * 4
    assert measure(plan, 1).key_projects[0] == "交通分野"
    assert "ワンストップ窓口の検討" in measure(plan, 5).key_projects
    assert measure(plan, 7).key_projects == ["セキュリティ研修の実施", "情報セキュリティポリシーの改訂", "ICT-BCPの見直し"]


def test_kpi_rows_per_policy(plan: ParsedPlan) -> None:
    assert [len(m.kpis) for m in plan.measures] == [2, 2, 2, 2, 3, 2, 2]
    for kpi in (k for m in plan.measures for k in m.kpis):
        assert kpi.targets == [kpi.target]
        assert kpi.year == 2030 and kpi.year_label == "R12（2030年度）目標"


def test_policy2_pittari_kpi(plan: ParsedPlan) -> None:
    kpi = next(k for k in measure(plan, 2).kpis if "ぴったりサービス" in k.text)
    assert kpi.text == "ぴったりサービスを活用したオンライン申請の利用率"
    assert (kpi.baseline, kpi.target) == ("40%", "90%")


def test_policy1_kpis(plan: ParsedPlan) -> None:
    pairs = {k.text: (k.baseline, k.target) for k in measure(plan, 1).kpis}
    assert pairs == {
        "各分野におけるデジタル施策の満足度": ("44%", "70%"),
        "各分野におけるデジタル施策の認知度": ("65%", "95%"),
    }


def test_policy7_incident_kpi_without_baseline(plan: ParsedPlan) -> None:
    kpi = next(k for k in measure(plan, 7).kpis if k.text == "重大インシデントの発生件数")
    assert kpi.target == "0件" and kpi.baseline is None


def test_goal_state_and_background_cover_sub_areas(plan: ParsedPlan) -> None:
    first = measure(plan, 1)
    assert "【交通分野】AIオンデマンド型交通" in first.goal_state
    assert "【健康分野】デジタル技術を活用して" in first.goal_state
    assert "★" not in first.goal_state
    assert "【防災・救急分野】" in first.background and "救急搬送件数" in first.background
    assert "担い手不足\n" not in first.background  # figure caption, not text
    assert all(m.goal_state and m.background for m in plan.measures)


def test_actions_have_area_title_and_text(plan: ParsedPlan) -> None:
    assert len(measure(plan, 1).actions) == 17
    ai = action(plan, "AIオンデマンド型交通の横展開")
    assert ai.area == "交通分野" and ai.text.startswith("現在、北浦町で展開している")
    assert action(plan, "防災アプリによる災害情報配信の推進").area == "防災・救急分野"
    assert action(plan, "スマホ教室・サロン開催").area == ""  # emoji marker stripped from the title


def test_milestones_placed_by_column(plan: ParsedPlan) -> None:
    ai = action(plan, "AIオンデマンド型交通の横展開")
    assert ai.milestones == {"R8": "地域の選定・準備、調整: →", "R10": "サービス開始: ★"}
    assert ai.years == [2026, 2028]
    drill = action(plan, "防災アプリによる災害情報配信の推進").milestones
    assert [drill[f"R{n}"] for n in range(8, 13)] == ["ネットワークを活用した訓練: 実施"] * 5


def test_uncertain_columns_go_to_note(plan: ParsedPlan) -> None:
    staff = action(plan, "外部専門人材の確保")
    assert not any(YEAR_KEY.match(k) for k in staff.milestones)
    assert "確保・任用" in staff.milestones["note"]
    route = action(plan, "利用者情報の分析による路線再編 時刻表のオープンデータ（グーグル）")
    assert route.milestones["R8"].startswith("路線再編: → 収取・分析")
    assert "★ 再編" in route.milestones["note"] and "R10" not in route.milestones


def test_kgi_section(plan: ParsedPlan) -> None:
    kgi = [s for s in plan.sections if s.kind == "kgi"]
    assert len(kgi) == 1
    assert kgi[0].text.startswith("【KGI】DX施策に関する市民満足度を70%まで向上")


def test_survey_sections(plan: ParsedPlan) -> None:
    surveys = [s for s in plan.sections if s.kind == "survey"]
    assert len(surveys) >= 10
    text = "\n".join(s.text for s in surveys)
    for figure in ("回答率:41%", "87%", "77%", "令和7年9月1日"):
        assert figure in text
    assert sum(1 for s in surveys if "9. オンライン手続き" in s.title) == 1  # repeated pages merged


def test_chapter_and_milestone_sections(plan: ParsedPlan) -> None:
    keys = [s.key for s in plan.sections]
    assert len(keys) == len(set(keys))
    for key in ("ch1-1", "ch1-4", "ch2-1", "ch2-2", "ch3-3", "ch4-5", "ch4-6", "ch5-1"):
        assert key in keys
    assert not any(k in keys for k in ("ch4-7", "ch4-13"))  # the policies are measures, not sections
    milestones = next(s for s in plan.sections if s.kind == "milestones")
    assert "R10 ★ AIオンデマンド型交通の横展開" in milestones.text
    kpi_table = next(s for s in plan.sections if s.key == "ch4-5")
    assert "ぴったりサービスを活用したオンライン申請の利用率（現状値 40% → 目標値 90%）" in kpi_table.text


def test_glossary_from_definition_boxes(plan: ParsedPlan) -> None:
    terms = {g.term: g.explanation for g in plan.glossary}
    assert {"デジタルデバイド", "EBPM", "eL-QR"} <= set(terms)
    assert terms["EBPM"].startswith("Evidence-Based Policy Making")


def test_no_markup_tabs_slips_or_debris(plan: ParsedPlan) -> None:
    for value in strings(records(plan)):
        for bad in FORBIDDEN:
            assert bad not in value, f"{bad!r} in {value[:80]!r}"
        for line in value.split("\n"):
            assert line.strip(" ★▲→・") or not line, f"layout debris line in {value[:80]!r}"
            assert line not in PAGE_HEADERS, f"page header left in {value[:80]!r}"


def test_policy_name_wrapped_in_kpi_table(source: tuple[str, PlanInfo]) -> None:
    """A policy cell broken over two lines still gives its KPIs to the right policy."""
    text, info = source
    row = "マイナンバーカードを含む ITインフラの利活用の推進\tマイナンバーカードの利用機会"
    assert row in text
    wrapped = parse(text.replace(row, "マイナンバーカードを含む\nITインフラの利活用の推進\tマイナンバーカードの利用機会"), info)
    assert [len(m.kpis) for m in wrapped.measures] == [2, 2, 2, 2, 3, 2, 2]
    assert {k.text for k in measure(wrapped, 2).kpis} == {k.text for k in measure(parse(text, info), 2).kpis}


def test_unknown_layout_falls_back_to_generic(source: tuple[str, PlanInfo]) -> None:
    _, info = source
    parsed = parse("# 概要\n本文です。\n", info)
    assert parsed.measures == [] and [s.title for s in parsed.sections] == ["概要"]


def test_golden_records(plan: ParsedPlan) -> None:
    current = records(plan)
    if os.environ.get("PLANQA_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert GOLDEN.exists(), "golden file missing: run with PLANQA_UPDATE_GOLDEN=1"
    assert json.loads(GOLDEN.read_text(encoding="utf-8")) == current
