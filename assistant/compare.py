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
    keyword: float | None = None  # best BM25 score of its chunks, when known


@dataclass
class Comparison:
    theme: str
    by_plan: dict[str, list[ComparedMeasure]] = field(default_factory=dict)

    def weak(self, plan: str) -> bool:
        """True when no measure of the plan uses the theme's words and none is close in meaning
        (one-word themes score low on meaning alone, so the words decide first)."""
        found = self.by_plan.get(plan) or []
        if not found:
            return True
        if any(m.keyword for m in found) or any(m.similarity is None for m in found):
            return False
        return max(m.similarity or 0.0 for m in found) < WEAK_MATCH


class _OnceEmbeddings:
    """The assistant's embeddings, embedding the theme once for all plans."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.vectors: dict[str, list[float]] = {}

    def embed_query(self, text: str) -> list[float]:
        if text not in self.vectors:
            self.vectors[text] = self.inner.embed_query(text)
        return self.vectors[text]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


Ranked = tuple[str, float, float | None, float | None]  # measure number, score, similarity, keyword


def _ranked(assistant: Any, retriever: Retriever | None, theme: str, plan: str) -> list[Ranked]:
    """Measures of one plan for the theme, best first."""
    if retriever is not None:
        result = retriever.search(Query(raw=theme, text=theme, plans=[plan]))
        return [(h.measure, h.score, h.best_dense, max((x.keyword for x in h.hits), default=0.0))
                for h in result.measures if h.measure and h.plan == plan]
    answer = assistant.ask(theme, plan=plan)
    return [(r.measure, r.score, None, None) for r in answer.retrieved if r.measure and r.plan == plan]


def compare_theme(assistant: Any, theme: str, per_plan: int = PER_PLAN) -> Comparison:
    """The ``per_plan`` closest measures of every plan for ``theme``.

    Raises :class:`assistant.types.InvalidQuestion` (Japanese message) for an empty
    or too long theme."""
    text = unicodedata.normalize("NFKC", clean_question(theme, MAX_THEME_CHARS))
    comparison = Comparison(theme=text)
    snapshot = getattr(assistant, "snapshot", None)
    embeddings = getattr(assistant, "embeddings", None)
    retriever = None
    if snapshot is not None and embeddings is not None:
        retriever = Retriever(snapshot, _OnceEmbeddings(embeddings), getattr(assistant, "retrieval_mode", "hybrid"))
    for plan in assistant.plans:
        found: list[ComparedMeasure] = []
        for number, score, similarity, keyword in _ranked(assistant, retriever, text, plan):
            try:
                measure = assistant.measure(plan, int(number))
            except (TypeError, ValueError):
                measure = None
            if measure is not None and all(m.measure.number != measure.number for m in found):
                found.append(ComparedMeasure(measure, score, similarity, keyword))
            if len(found) >= per_plan:
                break
        comparison.by_plan[plan] = found
    return comparison
