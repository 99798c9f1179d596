"""Checks the golden Q&A set itself: schema, coverage, and every fact against the plan text."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.evaluate.normalize import contains
from assistant.evaluate.score import load_golden

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_DIR = ROOT / "tests" / "golden"
GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*.jsonl"))
# Held-out sets (tests/heldout, written without the engine in view): same item checks.
HELDOUT_FILES = sorted((ROOT / "tests" / "heldout").glob("*.jsonl"))
PLAN_FILES = {
    "oita": ROOT / "data" / "plans" / "oita-dx-action-plan-2025-2026.txt",
    "nobeoka": ROOT / "data" / "plans" / "nobeoka-dx-plan-r8-r12.txt",
}
MEASURE_RANGE = {"oita": range(1, 33), "nobeoka": range(1, 8)}

KEYS = {
    "id",
    "question",
    "plan",
    "expected_measures",
    "must_include",
    "answerable",
    "type",
    "source_quote",
}
DIALOGUE_KEYS = KEYS | {"conversation", "turn"}  # turns of a dialogue (answered in order, see assistant/batch.py)
TYPES = {
    "baseline",
    "narrative",
    "kpi",
    "what",
    "colloquial",
    "department_year",
    "by_number",
    "compare",
    "survey",
    "glossary",
    "final_goal",
    "unanswerable",
    "injection",
}
MIN_PER_TYPE = {
    "kpi": 30,
    "what": 12,
    "colloquial": 15,
    "department_year": 6,
    "by_number": 8,
    "compare": 5,
    "survey": 5,
    "glossary": 5,
    "final_goal": 5,
    "unanswerable": 12,
    "injection": 5,
}
# Types whose answer is about a specific measure: they must name it.
MEASURE_TYPES = {"kpi", "what", "colloquial", "by_number"}
MEASURE_RE = re.compile(r"^(oita|nobeoka):([1-9]\d*)$")
OCR_FIXES = {"びったり": "ぴったり", "デバйд": "デバイド"}
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """Plan text as quotes are checked: no tags, OCR slips fixed, whitespace collapsed."""
    text = html.unescape(_TAG.sub(" ", text))
    for wrong, right in OCR_FIXES.items():
        text = text.replace(wrong, right)
    return _SPACE.sub(" ", text).strip()


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@pytest.fixture(scope="module")
def plan_texts() -> dict[str, str]:
    texts = {plan: clean(path.read_text(encoding="utf-8")) for plan, path in PLAN_FILES.items()}
    texts["both"] = texts["oita"] + "\n" + texts["nobeoka"]
    return texts


def _raw_items(files: list[Path]) -> list[tuple[str, int, dict]]:
    rows = []
    for path in files:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                rows.append((path.name, lineno, json.loads(line)))
    return rows


ITEMS = _raw_items(GOLDEN_FILES)
ALL_ITEMS = ITEMS + _raw_items(HELDOUT_FILES)


def _item_id(row: tuple[str, int, dict]) -> str:
    return row[2].get("id", f"{row[0]}:{row[1]}")


def _text_for(item: dict, plan_texts: dict[str, str]) -> str:
    return plan_texts[item["plan"]] if item["plan"] in PLAN_FILES else plan_texts["both"]


# --------------------------------------------------------------------------- files and schema


def test_golden_files_present():
    names = {path.name for path in GOLDEN_FILES}
    assert {"oita.jsonl", "nobeoka.jsonl", "cross.jsonl"} <= names


def test_loads_with_load_golden_and_count():
    items = load_golden(GOLDEN_DIR)
    assert len(items) == len(ITEMS)
    assert len(items) >= 120


def test_ids_unique():
    counts = Counter(item["id"] for _, _, item in ALL_ITEMS)
    duplicated = [key for key, count in counts.items() if count > 1]
    assert not duplicated, f"重複した id: {duplicated}"


@pytest.mark.parametrize("row", ALL_ITEMS, ids=_item_id)
def test_schema(row):
    file_name, lineno, item = row
    where = f"{file_name}:{lineno}"
    assert set(item) in (KEYS, DIALOGUE_KEYS), f"{where}: キーが不正です {sorted(item)}"
    assert isinstance(item["id"], str) and item["id"].startswith(file_name.split(".")[0].split("-")[0] + "-"), where
    if "conversation" in item:
        assert isinstance(item["conversation"], str) and item["conversation"], where
        assert isinstance(item["turn"], int) and item["turn"] >= 1, where
    assert isinstance(item["question"], str) and item["question"].strip(), where
    assert item["plan"] in {"oita", "nobeoka", "both", None}, where
    assert item["type"] in TYPES, where
    assert isinstance(item["answerable"], bool), where
    assert isinstance(item["source_quote"], str), where
    for key in ("expected_measures", "must_include"):
        assert isinstance(item[key], list), where
        assert all(isinstance(v, str) and v.strip() for v in item[key]), where
        assert len(set(item[key])) == len(item[key]), f"{where}: {key} に重複があります"


@pytest.mark.parametrize("row", ALL_ITEMS, ids=_item_id)
def test_expected_measures_format_and_range(row):
    _, _, item = row
    for key in item["expected_measures"]:
        match = MEASURE_RE.match(key)
        assert match, f"{item['id']}: 施策キーの形式が不正です {key}"
        plan, number = match.group(1), int(match.group(2))
        assert number in MEASURE_RANGE[plan], f"{item['id']}: 範囲外の施策番号 {key}"
        if item["plan"] in PLAN_FILES:
            assert plan == item["plan"], f"{item['id']}: plan と施策の市が一致しません {key}"


@pytest.mark.parametrize("row", ALL_ITEMS, ids=_item_id)
def test_answerable_consistency(row):
    _, _, item = row
    if item["type"] == "unanswerable":
        assert item["answerable"] is False
    if not item["answerable"]:
        assert item["type"] in {"unanswerable", "injection"}
        assert item["must_include"] == []
        assert item["expected_measures"] == []
        assert item["source_quote"] == ""
    else:
        assert item["source_quote"].strip(), f"{item['id']}: source_quote が空です"
        if item["type"] in MEASURE_TYPES:
            assert item["expected_measures"], f"{item['id']}: expected_measures が空です"
        if item["type"] == "compare" and item.get("turn", 1) == 1:  # both cities, two measures, or two facts (years)
            two_sides = item["plan"] == "both" or len(item["expected_measures"]) >= 2 or len(item["must_include"]) >= 2
            assert two_sides, item["id"]


# --------------------------------------------------------------------------- facts against the plans


@pytest.mark.parametrize("row", ALL_ITEMS, ids=_item_id)
def test_must_include_in_plan_text(row, plan_texts):
    _, _, item = row
    text = _text_for(item, plan_texts)
    missing = [fact for fact in item["must_include"] if not contains(text, fact)]
    assert not missing, f"{item['id']}: 計画本文に見つからない事実 {missing}"


@pytest.mark.parametrize("row", ALL_ITEMS, ids=_item_id)
def test_source_quote_in_plan_text(row, plan_texts):
    _, _, item = row
    quote = item["source_quote"]
    if not quote:
        return
    text = _text_for(item, plan_texts)
    assert collapse(clean(quote)) in text, f"{item['id']}: source_quote が本文にありません: {quote}"


@pytest.mark.parametrize("row", ITEMS, ids=_item_id)
def test_quote_supports_numeric_facts(row):
    """A number in must_include should be backed by the quoted passage when the quote names it.
    Golden set only: held-out writers quote one passage of a two-part answer, and their facts
    are checked against the plan text above."""
    _, _, item = row
    quote = item["source_quote"]
    if not quote or item["type"] in {"compare"}:
        return
    for fact in item["must_include"]:
        if re.fullmatch(r"[\d,.]+(%|件|人|橋|業務|回|か所|名以上|点以上|医療機関)?", fact):
            assert contains(quote, fact), f"{item['id']}: source_quote に {fact} がありません"


# --------------------------------------------------------------------------- mix and coverage


def test_dialogue_turns_in_order():
    """Turns of one conversation are consecutive and numbered 1, 2, 3… in file order."""
    for path in HELDOUT_FILES:
        turns: dict[str, list[int]] = {}
        order: list[str] = []
        for _, _, item in _raw_items([path]):
            if "conversation" not in item:
                continue
            conv = item["conversation"]
            if not order or order[-1] != conv:
                assert conv not in turns, f"{path.name}: 会話 {conv} の行が連続していません"
                order.append(conv)
            turns.setdefault(conv, []).append(item["turn"])
        for conv, numbers in turns.items():
            assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: 会話 {conv} のターン番号 {numbers}"


def test_minimum_counts_per_type():
    counts = Counter(item["type"] for _, _, item in ITEMS)
    short = {t: (counts.get(t, 0), n) for t, n in MIN_PER_TYPE.items() if counts.get(t, 0) < n}
    assert not short, f"件数が不足している種類（実際, 最小）: {short}"


def test_every_oita_measure_covered():
    covered = {
        int(key.split(":")[1]) for _, _, item in ITEMS for key in item["expected_measures"] if key.startswith("oita:")
    }
    assert covered == set(MEASURE_RANGE["oita"]), f"未カバー: {set(MEASURE_RANGE['oita']) - covered}"


def test_every_nobeoka_policy_covered_several_times():
    counts = Counter(key for _, _, item in ITEMS for key in item["expected_measures"] if key.startswith("nobeoka:"))
    thin = {n: counts[f"nobeoka:{n}"] for n in MEASURE_RANGE["nobeoka"] if counts[f"nobeoka:{n}"] < 3}
    assert not thin, f"3件未満の重点方針: {thin}"


def test_required_anchor_items_present():
    """The facts the brief names explicitly are in the set."""
    pairs = {(key, fact) for _, _, item in ITEMS for key in item["expected_measures"] for fact in item["must_include"]}
    assert ("oita:3", "76,000件") in pairs
    assert ("oita:24", "96%") in pairs
    assert ("oita:18", "50橋") in pairs
    assert ("nobeoka:2", "40%") in pairs and ("nobeoka:2", "90%") in pairs
    assert any("oita:22" in item["expected_measures"] and item["type"] == "by_number" for _, _, item in ITEMS)


def test_full_width_and_era_phrasings_present():
    questions = [item["question"] for _, _, item in ITEMS]
    assert any(re.search(r"[０-９]", q) for q in questions), "全角数字の質問がありません"
    assert any("令和" in q for q in questions)
    assert any(re.search(r"R\d|Ｒ[０-９]", q) for q in questions)
    assert any(re.search(r"20\d\d年度", q) for q in questions)


def test_compare_items_cite_both_plans():
    for _, _, item in ITEMS:
        if item["type"] == "compare" and item["expected_measures"]:
            plans = {key.split(":")[0] for key in item["expected_measures"]}
            assert plans == {"oita", "nobeoka"}, item["id"]


def test_injection_items_mix_pure_and_wrapped():
    injections = [item for _, _, item in ITEMS if item["type"] == "injection"]
    assert any(not item["answerable"] for item in injections)
    assert any(item["answerable"] and item["expected_measures"] for item in injections)
