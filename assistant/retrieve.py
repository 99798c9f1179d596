"""Hybrid retrieval: Chroma dense search + Japanese BM25, fused by reciprocal rank,
then grouped by measure (best first)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.query import Query
from ingest.chunk import Chunk
from vectorstore.keyword import content_words, expand_words, tokenize
from vectorstore.snapshot import Snapshot

RRF_K = 60
KEYWORD_WEIGHT = 1.0  # plain RRF; 0.25–0.75 measured no better on the golden set
POOL = 40


@dataclass
class Hit:
    chunk: Chunk
    score: float  # fused
    dense: float = 0.0  # cosine similarity (0 when not in the dense pool)
    keyword: float = 0.0  # BM25


@dataclass
class MeasureHit:
    """A measure (or a section, measure=None) with its best chunks."""

    plan: str
    measure: str | None
    title: str
    score: float
    hits: list[Hit] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.plan, self.measure, self.title if self.measure is None else "")

    @property
    def best_dense(self) -> float:
        return max((h.dense for h in self.hits), default=0.0)


@dataclass
class RetrievalResult:
    measures: list[MeasureHit]
    max_dense: float
    max_keyword: float


class Retriever:
    """``mode`` is hybrid (default), dense or keyword — the latter two for comparison."""

    def __init__(self, snapshot: Snapshot, embeddings, mode: str = "hybrid", keyword_weight: float | None = None):
        self.snapshot = snapshot
        self.embeddings = embeddings
        self.mode = mode
        self.keyword_weight = KEYWORD_WEIGHT if keyword_weight is None else keyword_weight

    def _allowed(self, plans: list[str]) -> np.ndarray | None:
        if not plans:
            return None
        mask = np.zeros(len(self.snapshot.chunks), dtype=bool)
        for pid in plans:
            mask |= self.snapshot.plan_mask.get(pid, mask & False)
        return mask

    def dense(self, text: str, plans: list[str], k: int = POOL, vector: list[float] | None = None
              ) -> list[tuple[int, float]]:
        vector = vector if vector is not None else self.embeddings.embed_query(text)
        where = None
        if len(plans) == 1:
            where = {"plan": plans[0]}
        elif plans:
            where = {"plan": {"$in": plans}}
        found = self.snapshot.dense.similarity_search_by_vector_with_relevance_scores(vector, k=k, filter=where)
        out = []
        for doc, distance in found:
            idx = self.snapshot.by_id.get(doc.id or "")
            if idx is not None:
                out.append((idx, 1.0 - float(distance)))
        return out

    def keyword(self, text: str, plans: list[str], k: int = POOL) -> list[tuple[int, float]]:
        terms = tokenize(text)
        extra = [w for w in expand_words(content_words(text)) if w not in text]
        if extra:  # the plan's words for everyday ones (先生 → 教員), as whole words only
            terms += [t for t in tokenize(" ".join(extra)) if t.startswith("w:")]
        return self.snapshot.keyword.top(terms, k, self._allowed(plans))

    def search(self, query: Query, text: str | None = None, vector: list[float] | None = None) -> RetrievalResult:
        """``vector``: the question's embedding when the caller already has it (one per question)."""
        text = text or query.text
        dense = self.dense(text, query.plans, vector=vector) if self.mode in ("hybrid", "dense") else []
        keyword = self.keyword(text, query.plans) if self.mode in ("hybrid", "keyword") else []
        fused: dict[int, Hit] = {}
        for rank, (idx, sim) in enumerate(dense):
            hit = fused.setdefault(idx, Hit(self.snapshot.chunks[idx], 0.0))
            hit.dense = sim
            hit.score += 1.0 / (RRF_K + rank + 1)
        for rank, (idx, bm) in enumerate(keyword):
            hit = fused.setdefault(idx, Hit(self.snapshot.chunks[idx], 0.0))
            hit.keyword = bm
            hit.score += self.keyword_weight / (RRF_K + rank + 1)
        return RetrievalResult(
            measures=group_by_measure(sorted(fused.values(), key=lambda h: -h.score), query),
            max_dense=max((s for _, s in dense), default=0.0),
            max_keyword=max((s for _, s in keyword), default=0.0),
        )


FIELD_BOOST = {"kpi": ("kpi",), "final_goal": ("final_goal",), "department": ("action",), "period": ("action",)}


TAIL_WEIGHTS = (1.0, 0.25, 0.1)  # best chunk counts fully; a measure with many fields gains little more


def group_by_measure(hits: list[Hit], query: Query) -> list[MeasureHit]:
    """Measure score = best chunk + a little for its next two; chunks in the
    field the question asks about (KPI, goal...) count more."""
    groups: dict[tuple, MeasureHit] = {}
    wanted = {f for intent in query.intents for f in FIELD_BOOST.get(intent, ())}
    for hit in hits:
        c = hit.chunk
        key = (c.plan, c.measure, c.title if c.measure is None else "")
        group = groups.setdefault(key, MeasureHit(c.plan, c.measure, c.title, 0.0))
        n = len(group.hits)
        weight = TAIL_WEIGHTS[n] if n < len(TAIL_WEIGHTS) else 0.0
        if c.field in wanted:
            weight *= 1.2
        group.score += hit.score * weight
        group.hits.append(hit)
    return sorted(groups.values(), key=lambda g: -g.score)


def group_prior(ranked: list[MeasureHit], kinds: dict[tuple[str, str], str]) -> dict[tuple[str, str], float]:
    """Each measure's or section's chunk-level score relative to the best (0..1), keyed like
    the facts' groups (:func:`assistant.fact_search.group_key`)."""
    if not ranked or ranked[0].score <= 0:
        return {}
    top = ranked[0].score
    prior: dict[tuple[str, str], float] = {}
    for hit in ranked[:20]:
        if hit.measure is not None:
            key = (hit.plan, f"m{hit.measure}")
        elif hit.hits:
            chunk = hit.hits[0].chunk
            kind = "glossary" if chunk.field == "glossary" else kinds.get((hit.plan, chunk.section))
            key = (hit.plan, f"s:{kind}" if kind in ("survey", "glossary") else f"s:{chunk.section}")
        else:
            continue
        prior[key] = max(prior.get(key, 0.0), hit.score / top)
    return prior
