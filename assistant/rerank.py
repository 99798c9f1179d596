"""Adjustments to the retrieved ranking that use what the question says literally.

Retrieval ranks by meaning and by words; these steps then favour candidates that
contain a quoted or distinctive term verbatim, or whose KPI names match a KPI
question. Pure functions over ranked hits, so each rule is testable alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.retrieve import MeasureHit
from ingest.records import Measure
from vectorstore.keyword import content_words

_QUOTED = re.compile(r"[「『\"]([^」』\"]{2,30})[」』\"]|([A-Za-z][A-Za-z0-9\-]{2,})")
LITERAL_BOOST = 1.5
LITERAL_MAX_GROUPS = 3


def boost_literal(ranked: list[MeasureHit], text: str) -> list[MeasureHit]:
    """Quoted terms and distinctive Latin words (「らくらく窓口」, のべおかCOIN) favour the
    measures whose retrieved text contains them verbatim."""
    terms = {a or b for a, b in _QUOTED.findall(text)}
    terms = {t for t in terms if t.upper() not in ("DX", "KPI", "NO")}
    if not terms:
        return ranked
    bodies = ["\n".join(h.chunk.title + "\n" + h.chunk.text for h in hit.hits) for hit in ranked]
    # Only distinctive words count: one that many candidates share (スマートフォン) says nothing.
    terms = {t for t in terms if sum(t in b for b in bodies) <= LITERAL_MAX_GROUPS}
    for hit, body in zip(ranked, bodies, strict=True):
        if any(t in body for t in terms):
            hit.score *= LITERAL_BOOST
    return sorted(ranked, key=lambda h: -h.score)


def boost_kpi_match(ranked: list[MeasureHit], text: str,
                    measure: Callable[[str, int], Measure | None]) -> list[MeasureHit]:
    """For KPI questions, favour measures whose KPI names, milestones and action
    titles share words with the question (「認知度」→ the policy with that KPI)."""
    words = content_words(text)
    if not words:
        return ranked
    for hit in ranked[:10]:
        m = measure(hit.plan, int(hit.measure)) if hit.measure else None
        if m is None:
            continue
        target_text = " ".join([k.text for k in m.kpis] + [a.title for a in m.actions]
                               + [v for a in m.actions for v in a.milestones.values()])
        overlap = sum(len(w) for w in words if w in target_text)
        hit.score *= 1 + min(0.1 * overlap, 0.6)
    return sorted(ranked, key=lambda h: -h.score)


RARE_IDF = 5.0  # BM25 IDF: a word in about 0.5 % of chunks or fewer (2 of the 438 here)
RARE_BOOST = 1.2
RARE_MAX_GROUPS = 2


def boost_rare_words(ranked: list[MeasureHit], words: list[str], rarity: Callable[[str], float],
                     whole_text: Callable[[MeasureHit], str], top: int = 10) -> list[MeasureHit]:
    """A question word the corpus rarely uses (ごみ) that only one or two of the leading
    candidates contain anywhere favours those candidates."""
    rare = [w for w in words if rarity(w) >= RARE_IDF]
    if not rare:
        return ranked
    head = ranked[:top]
    texts = [whole_text(h) for h in head]
    for word in rare:
        holders = [h for h, t in zip(head, texts, strict=True) if word in t]
        if 1 <= len(holders) <= RARE_MAX_GROUPS:
            for h in holders:
                h.score *= RARE_BOOST
    return sorted(ranked, key=lambda h: -h.score)

