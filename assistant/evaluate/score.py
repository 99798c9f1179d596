"""Pure scoring of assistant answers against the golden Q&A set.

A golden item (one line of ``tests/golden/*.jsonl``)::

    {"id", "question", "plan", "expected_measures": ["oita:3"], "must_include": ["76,000"],
     "answerable": true, "type": "kpi", "source_quote": "..."}

An output (one line of a batch run)::

    {"id", "question", "answer", "refused",
     "citations": [{"plan", "measure", "title", "field", "quote"}],
     "retrieved": [{"plan", "measure", "score"}], "latency_ms"}

Pass rule
    answerable   → not refused, every expected measure cited, every must_include
                   fact contained in the answer (:func:`~assistant.evaluate.normalize.contains`)
    unanswerable → refused

Aggregates are micro-averaged (sums of hits over sums of totals) and returned as
plain JSON-serialisable dicts with the keys in :data:`METRIC_KEYS`.
No I/O except :func:`load_golden`.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluate.normalize import contains

__all__ = [
    "METRIC_KEYS",
    "ItemScore",
    "aggregate",
    "cited_measures",
    "load_golden",
    "measure_key",
    "percentile",
    "retrieval_ranks",
    "score_item",
    "score_run",
]

METRIC_KEYS = (
    "pass_rate",
    "citation_recall",
    "citation_precision",
    "must_include_accuracy",
    "refusal_accuracy",
    "false_refusal_rate",
    "retrieval_recall_at_1",
    "retrieval_recall_at_5",
    "facts_up_front",
    "followup_pass_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "count",
)


@dataclass
class ItemScore:
    """The score of one golden item. ``None`` means "not applicable"."""

    id: str
    type: str
    plan: str | None
    answerable: bool
    refused: bool
    passed: bool
    expected: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    citation_hits: int = 0
    citation_recall: float | None = None
    citation_precision: float | None = None
    must_include_hits: int = 0
    must_include_total: int = 0
    missing_facts: list[str] = field(default_factory=list)
    retrieval_ranks: dict[str, int | None] = field(default_factory=dict)
    recall_at_1: float | None = None
    recall_at_5: float | None = None
    latency_ms: float | None = None
    facts_up_front: bool | None = None  # passed with facts: are they all in the first FRONT_CHARS characters?
    follow_up: bool = False  # a later turn of a conversation
    reasons: list[str] = field(default_factory=list)  # why it failed, in Japanese

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- keys


def measure_key(plan: Any, measure: Any) -> str | None:
    """``"oita:3"`` from plan ``"oita"`` and measure ``"3"`` / ``3`` / ``"03"``; None for sections."""
    if plan is None or measure is None:
        return None
    plan_text = str(plan).strip().lower()
    measure_text = unicodedata.normalize("NFKC", str(measure)).strip()
    if not plan_text or not measure_text:
        return None
    if measure_text.isdigit():
        measure_text = str(int(measure_text))
    return f"{plan_text}:{measure_text}"


def _normalize_expected(keys: Iterable[str]) -> list[str]:
    out: list[str] = []
    for key in keys:
        plan, _, measure = str(key).partition(":")
        normalized = measure_key(plan, measure) or str(key)
        if normalized not in out:
            out.append(normalized)
    return out


def cited_measures(output: Mapping[str, Any]) -> set[str]:
    """Set of ``plan:measure`` keys the answer cites (section citations are ignored)."""
    keys: set[str] = set()
    for citation in output.get("citations") or []:
        key = measure_key(citation.get("plan"), citation.get("measure"))
        if key is not None:
            keys.add(key)
    return keys


def retrieval_ranks(output: Mapping[str, Any], expected: Iterable[str]) -> dict[str, int | None]:
    """1-based rank of each expected measure among the unique retrieved measures.

    Retrieved chunks are de-duplicated by measure in their given order; chunks of
    sections (measure null) are skipped. A measure never retrieved has rank None.
    """
    order: list[str] = []
    for hit in output.get("retrieved") or []:
        key = measure_key(hit.get("plan"), hit.get("measure"))
        if key is not None and key not in order:
            order.append(key)
    position = {key: index + 1 for index, key in enumerate(order)}
    return {key: position.get(key) for key in expected}


def _recall_at(ranks: Mapping[str, int | None], k: int) -> float | None:
    if not ranks:
        return None
    hits = sum(1 for rank in ranks.values() if rank is not None and rank <= k)
    return hits / len(ranks)


def _latency(output: Mapping[str, Any]) -> float | None:
    value = output.get("latency_ms")
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --------------------------------------------------------------------------- one item

FRONT_CHARS = 150  # "the first sentence answers": the asked facts must come this early


def is_follow_up(item: Mapping[str, Any]) -> bool:
    """A turn after the first of a conversation (``"conversation"`` and ``"turn" > 1``)."""
    try:
        return bool(item.get("conversation")) and int(item.get("turn") or 1) > 1
    except (TypeError, ValueError):
        return False



def score_item(item: Mapping[str, Any], output: Mapping[str, Any] | None) -> ItemScore:
    """Score one golden item against one output (``None``: no output was produced)."""
    output = output or {}
    expected = _normalize_expected(item.get("expected_measures") or [])
    facts = [str(f) for f in item.get("must_include") or []]
    answerable = bool(item.get("answerable", True))
    refused = bool(output.get("refused", False))
    answer = str(output.get("answer") or "")

    cited = cited_measures(output)
    expected_set = set(expected)
    hits = len(expected_set & cited)
    recall = hits / len(expected_set) if expected_set else None
    precision = hits / len(cited) if expected_set and cited else None

    missing = [fact for fact in facts if not contains(answer, fact)]
    front = answer[:FRONT_CHARS]
    ranks = retrieval_ranks(output, expected)

    reasons: list[str] = []
    if not output:
        reasons.append("出力がありません")
    if answerable:
        if refused:
            reasons.append("回答可能な質問を拒否しました")
        uncited = [key for key in expected if key not in cited]
        if uncited:
            reasons.append("引用されていない施策: " + "、".join(uncited))
        if missing:
            reasons.append("回答に含まれていない事実: " + "、".join(missing))
        passed = not refused and not uncited and not missing
    else:
        if not refused:
            reasons.append("回答できない質問に回答しました")
        passed = refused

    return ItemScore(
        id=str(item.get("id", "")),
        type=str(item.get("type", "")),
        plan=item.get("plan"),
        answerable=answerable,
        refused=refused,
        passed=passed,
        expected=expected,
        cited=sorted(cited),
        citation_hits=hits,
        citation_recall=recall,
        citation_precision=precision,
        must_include_hits=len(facts) - len(missing),
        must_include_total=len(facts),
        missing_facts=missing,
        retrieval_ranks=ranks,
        recall_at_1=_recall_at(ranks, 1),
        recall_at_5=_recall_at(ranks, 5),
        latency_ms=_latency(output),
        facts_up_front=all(contains(front, fact) for fact in facts) if passed and answerable and facts else None,
        follow_up=is_follow_up(item),
        reasons=[] if passed else reasons,
    )


# --------------------------------------------------------------------------- aggregation


def percentile(values: Iterable[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0–100), as numpy's default; None if empty."""
    data = sorted(values)
    if not data:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q は 0〜100 の範囲で指定してください")
    position = (len(data) - 1) * q / 100
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return float(data[lower])
    return data[lower] + (data[upper] - data[lower]) * (position - lower)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _as_score(entry: ItemScore | Mapping[str, Any]) -> ItemScore:
    if isinstance(entry, ItemScore):
        return entry
    return ItemScore(**{k: v for k, v in entry.items() if k in ItemScore.__dataclass_fields__})


def _metrics(scores: list[ItemScore]) -> dict[str, Any]:
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    with_expected = [s for s in scores if s.expected]
    precision_items = [s for s in with_expected if s.cited]

    rank_values = [rank for s in scores for rank in s.retrieval_ranks.values()]
    latencies = [s.latency_ms for s in scores if s.latency_ms is not None]
    up_front = [s.facts_up_front for s in scores if s.facts_up_front is not None]
    follow_ups = [s for s in scores if s.follow_up]

    return {
        "pass_rate": _ratio(sum(s.passed for s in scores), len(scores)),
        "citation_recall": _ratio(
            sum(s.citation_hits for s in with_expected),
            sum(len(s.expected) for s in with_expected),
        ),
        "citation_precision": _ratio(
            sum(s.citation_hits for s in precision_items),
            sum(len(s.cited) for s in precision_items),
        ),
        "must_include_accuracy": _ratio(
            sum(s.must_include_hits for s in answerable),
            sum(s.must_include_total for s in answerable),
        ),
        "refusal_accuracy": _ratio(sum(s.refused for s in unanswerable), len(unanswerable)),
        "false_refusal_rate": _ratio(sum(s.refused for s in answerable), len(answerable)),
        "retrieval_recall_at_1": _ratio(sum(1 for r in rank_values if r is not None and r <= 1), len(rank_values)),
        "retrieval_recall_at_5": _ratio(sum(1 for r in rank_values if r is not None and r <= 5), len(rank_values)),
        "facts_up_front": _ratio(sum(up_front), len(up_front)),
        "followup_pass_rate": _ratio(sum(s.passed for s in follow_ups), len(follow_ups)),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "count": len(scores),
    }


def aggregate(scores: Iterable[ItemScore | Mapping[str, Any]]) -> dict[str, Any]:
    """``{"overall": {...}, "by_type": {type: {...}}}`` with the keys of :data:`METRIC_KEYS`.

    Metrics that do not apply (no unanswerable items, no latencies, ...) are None.
    """
    items = [_as_score(s) for s in scores]
    by_type: dict[str, list[ItemScore]] = {}
    for score in items:
        by_type.setdefault(score.type, []).append(score)
    return {
        "overall": _metrics(items),
        "by_type": {name: _metrics(group) for name, group in sorted(by_type.items())},
    }


def score_run(golden: Iterable[Mapping[str, Any]], outputs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Score every golden item against the output with the same id (missing → failed).

    Returns ``{"items": [per-item dicts], "summary": aggregate(...)}``.
    """
    by_id = {str(o.get("id")): o for o in outputs}
    scores = [score_item(item, by_id.get(str(item.get("id")))) for item in golden]
    return {"items": [s.to_dict() for s in scores], "summary": aggregate(scores)}


# --------------------------------------------------------------------------- loading


def _expand(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            files.extend(sorted(path.glob("*.jsonl")))
        else:
            files.append(path)
    return files


def load_golden(paths: str | Path | Iterable[str | Path]) -> list[dict[str, Any]]:
    """Read golden items from JSONL files (a directory means its ``*.jsonl``).

    Blank lines are skipped. Raises ValueError (Japanese message with file and line
    number) on a line that is not a JSON object, lacks ``id`` / ``question``, or
    repeats an id.
    """
    items: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for path in _expand(paths):
        with path.open(encoding="utf-8") as handle:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path} の {lineno} 行目"
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{where}: JSON として読み込めません（{exc.msg}）") from exc
                if not isinstance(item, dict):
                    raise ValueError(f"{where}: JSON オブジェクトではありません")
                for key in ("id", "question"):
                    value = item.get(key)
                    if not isinstance(value, str) or not value.strip():
                        raise ValueError(f"{where}: {key} がないか空です")
                if item["id"] in seen:
                    raise ValueError(f"{where}: id「{item['id']}」が重複しています（最初は {seen[item['id']]}）")
                seen[item["id"]] = where
                items.append(item)
    return items
