"""Quality gate: the real assistant over the full golden set must stay above the floors.

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

# Floors ~0.03 below the latest measured values (2026-11-22, extractive backend, hybrid
# retrieval, 179 items: pass 0.905, citation recall 0.924 / precision 0.887, facts 0.893,
# refusal 1.000, false refusal 0.000, recall@1 0.903, recall@5 0.993).
# Raise as quality rises; never lower to pass.
MIN_PASS_RATE = 0.87
MIN_CITATION_RECALL = 0.90
MIN_CITATION_PRECISION = 0.86
MIN_MUST_INCLUDE_ACCURACY = 0.86
MIN_REFUSAL_ACCURACY = 0.93
MAX_FALSE_REFUSAL_RATE = 0.03
MIN_RECALL_AT_1 = 0.88
MIN_RECALL_AT_5 = 0.97


@pytest.fixture(scope="module")
def result(real_assistant) -> dict:
    """One run of the full golden set; ``real_assistant`` (conftest) skips without an index or model."""
    items = load_golden(default_golden_files())
    result = run_eval(real_assistant, items)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "eval-metrics.json").write_text(
        json.dumps(result["metrics"], ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (ARTIFACTS / "eval-gate-report.md").write_text(render_report(result), encoding="utf-8")
    print(json.dumps(result["metrics"]["overall"], ensure_ascii=False, indent=2))
    return result


@pytest.mark.parametrize(
    ("key", "floor"),
    [
        ("pass_rate", MIN_PASS_RATE),
        ("citation_recall", MIN_CITATION_RECALL),
        ("citation_precision", MIN_CITATION_PRECISION),
        ("must_include_accuracy", MIN_MUST_INCLUDE_ACCURACY),
        ("refusal_accuracy", MIN_REFUSAL_ACCURACY),
        ("retrieval_recall_at_1", MIN_RECALL_AT_1),
        ("retrieval_recall_at_5", MIN_RECALL_AT_5),
    ],
)
def test_metric_floor(result: dict, key: str, floor: float) -> None:
    value = result["metrics"]["overall"][key]
    assert value is not None, f"{key} が計算できません"
    assert value >= floor, (
        f"{key} = {value:.3f} が下限 {floor:.3f} を下回りました（{ARTIFACTS / 'eval-gate-report.md'} を参照）"
    )


def test_false_refusal_ceiling(result: dict) -> None:
    value = result["metrics"]["overall"]["false_refusal_rate"]
    assert value is not None
    assert value <= MAX_FALSE_REFUSAL_RATE, f"誤拒否率 {value:.3f} が上限 {MAX_FALSE_REFUSAL_RATE:.3f} を超えました"


def test_no_engine_exceptions(result: dict) -> None:
    """An exception inside ask() is a bug, not a quality miss."""
    broken = [(row["id"], row["reasons"][0]) for row in result["items"] if row["exception"]]
    assert not broken, f"ask() が例外を出しました: {broken}"
