"""Quality gate: the real assistant over the golden set and the held-out set must stay above the floors.

Needs the embedding model and a built index (``planqa ingest``); CI has both.
Writes ``test-artifacts/eval-metrics.json`` and ``test-artifacts/eval-gate-report.md``.
"""

from __future__ import annotations

import json

import pytest

from assistant.evaluate.cli import default_golden_files
from assistant.evaluate.harness import run_eval
from assistant.evaluate.report import render_report
from assistant.evaluate.score import load_golden
from assistant.settings import PROJECT_ROOT

pytestmark = pytest.mark.model

ARTIFACTS = PROJECT_ROOT / "test-artifacts"

HELDOUT_DIR = PROJECT_ROOT / "tests" / "heldout"

# Floors ~0.03 below the latest measured values (2026-12-01, fact reader after the hq round,
# int8 embeddings, extractive backend); a floor is never lowered.
#   golden (179 items): pass 0.978, citation recall 0.972 / precision 0.972, facts 0.983,
#     refusal 1.000, false refusal 0.000, recall@1 0.924, recall@5 0.993, facts up front 0.948.
#   heldout (2,083 items, 197 dialogues, in tests/heldout, written without the engine in view;
#     each set was run once as it came, then worked on by kind of failure, see its README):
#     pass 0.964, recall 0.981 / precision 0.980, facts 0.968, refusal 0.969,
#     false refusal 0.001, recall@1 0.905, recall@5 0.999, facts up front 0.903,
#     follow-up turns 0.939.
# Raise as quality rises; never lower to pass. A set without dialogues has no follow-up floor.
FLOORS = {
    "golden": {
        "pass_rate": 0.95, "citation_recall": 0.94, "citation_precision": 0.94, "must_include_accuracy": 0.955,
        "refusal_accuracy": 0.97, "retrieval_recall_at_1": 0.89, "retrieval_recall_at_5": 0.96,
        "facts_up_front": 0.915,
    },
    "heldout": {
        "pass_rate": 0.935, "citation_recall": 0.95, "citation_precision": 0.95, "must_include_accuracy": 0.94,
        "refusal_accuracy": 0.94, "retrieval_recall_at_1": 0.875, "retrieval_recall_at_5": 0.97,
        "facts_up_front": 0.87, "followup_pass_rate": 0.905,
    },
}
MAX_FALSE_REFUSAL_RATE = 0.03


def _files(name: str):
    return default_golden_files() if name == "golden" else sorted(HELDOUT_DIR.glob("*.jsonl"))


@pytest.fixture(scope="module", params=sorted(FLOORS))
def result(request, real_assistant) -> dict:
    """One run of a whole set; ``real_assistant`` (conftest) skips without an index or model."""
    name = request.param
    items = load_golden(_files(name))
    result = run_eval(real_assistant, items)
    result["set"] = name
    ARTIFACTS.mkdir(exist_ok=True)
    suffix = "" if name == "golden" else f"-{name}"
    (ARTIFACTS / f"eval-metrics{suffix}.json").write_text(
        json.dumps(result["metrics"], ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (ARTIFACTS / f"eval-gate-report{suffix}.md").write_text(render_report(result), encoding="utf-8")
    print(name, json.dumps(result["metrics"]["overall"], ensure_ascii=False, indent=2))
    return result


@pytest.mark.parametrize("key", sorted(set(FLOORS["golden"]) | set(FLOORS["heldout"])))
def test_metric_floor(result: dict, key: str) -> None:
    floor = FLOORS[result["set"]].get(key)
    if floor is None:
        pytest.skip(f"{result['set']} には {key} の下限がありません")
    value = result["metrics"]["overall"][key]
    assert value is not None, f"{key} が計算できません"
    assert value >= floor, (
        f"{result['set']}: {key} = {value:.3f} が下限 {floor:.3f} を下回りました（{ARTIFACTS} の eval-gate-report を参照）"
    )


def test_false_refusal_ceiling(result: dict) -> None:
    value = result["metrics"]["overall"]["false_refusal_rate"]
    assert value is not None
    assert value <= MAX_FALSE_REFUSAL_RATE, f"誤拒否率 {value:.3f} が上限 {MAX_FALSE_REFUSAL_RATE:.3f} を超えました"


def test_no_engine_exceptions(result: dict) -> None:
    """An exception inside ask() is a bug, not a quality miss."""
    broken = [(row["id"], row["reasons"][0]) for row in result["items"] if row["exception"]]
    assert not broken, f"ask() が例外を出しました: {broken}"
