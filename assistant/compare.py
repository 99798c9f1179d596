"""The closest measures of each plan for a theme (窓口, マイナンバー, 人材育成 …), for
comparing the plans side by side.

Searches each plan on its own with the assistant's retriever, so both plans
always answer; an assistant without an index of its own (a stand-in in tests)
is asked through ``ask`` and its ``retrieved`` list is used instead.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from assistant.guard import clean_question
from assistant.query import Query
from assistant.retrieve import Retriever
from ingest.records import Measure

PER_PLAN = 3
WEAK_MATCH = 0.45  # best dense similarity below this: the plan may not address the theme
MAX_THEME_CHARS = 100


@dataclass
class ComparedMeasure:
    measure: Measure
    score: float  # fused retrieval score (for ordering only)
    similarity: float | None = None  # best dense similarity of its chunks, when known


@dataclass
class Comparison:
    theme: str
    by_plan: dict[str, list[ComparedMeasure]] = field(default_factory=dict)

    def weak(self, plan: str) -> bool:
        """True when the plan's best measure is only loosely related to the theme."""
        found = self.by_plan.get(plan) or []
        best = max((m.similarity for m in found if m.similarity is not None), default=None)
        return not found or (best is not None and best < WEAK_MATCH)


def _ranked(assistant: Any, theme: str, plan: str) -> list[tuple[str, float, float | None]]:
    """(measure number, score, dense similarity) for one plan, best first."""
    snapshot = getattr(assistant, "snapshot", None)
    embeddings = getattr(assistant, "embeddings", None)
    if snapshot is not None and embeddings is not None:
        mode = getattr(assistant, "retrieval_mode", "hybrid")
        result = Retriever(snapshot, embeddings, mode).search(Query(raw=theme, text=theme, plans=[plan]))
        return [(h.measure, h.score, h.best_dense) for h in result.measures if h.measure and h.plan == plan]
    answer = assistant.ask(theme, plan=plan)
    return [(r.measure, r.score, None) for r in answer.retrieved if r.measure and r.plan == plan]


def compare_theme(assistant: Any, theme: str, per_plan: int = PER_PLAN) -> Comparison:
    """The ``per_plan`` closest measures of every plan for ``theme``.

    Raises :class:`assistant.types.InvalidQuestion` (Japanese message) for an empty
    or too long theme."""
    text = unicodedata.normalize("NFKC", clean_question(theme, MAX_THEME_CHARS))
    comparison = Comparison(theme=text)
    for plan in assistant.plans:
        found: list[ComparedMeasure] = []
        for number, score, similarity in _ranked(assistant, text, plan):
            try:
                measure = assistant.measure(plan, int(number))
            except (TypeError, ValueError):
                measure = None
            if measure is not None and all(m.measure.number != measure.number for m in found):
                found.append(ComparedMeasure(measure, score, similarity))
            if len(found) >= per_plan:
                break
        comparison.by_plan[plan] = found
    return comparison
