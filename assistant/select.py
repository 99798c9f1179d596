"""Pick the fact(s) that answer, or decide from evidence that the plans do not say.

One fact per asked part: the best-scoring fact, then for each ask it does not
satisfy (担当 and 期間, 何人 and 回収率) the best fact of the same measure or
section that does; for comparisons the best fact of each plan. A refusal comes
with its reason and the nearest measures, never silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.fact_search import ScoredFact, satisfies, satisfies_year, shows_unit
from assistant.understand import Question

# Evidence floors (calibrated on the golden and held-out sets; see README 評価).
MIN_DENSE = 0.42  # below this and without keyword support, nothing in the plans is close
MIN_KEYWORD = 0.35
PART_MARGIN = 0.35  # a fact for a second part may score this much below the first pick
SUPPORT_MARGIN = 0.25
MAX_SUPPORT = 2
HARD_ASKS = ("department", "when", "baseline", "target", "final", "survey", "definition")


@dataclass
class Selection:
    question: Question
    picked: list[ScoredFact] = field(default_factory=list)  # the facts the first sentence states
    support: list[ScoredFact] = field(default_factory=list)  # one or two sentences around them
    refused: bool = False
    reason: str = ""  # why the plans do not answer (Japanese, shown to the user)
    missing_years: list[int] = field(default_factory=list)
    nearest: list[ScoredFact] = field(default_factory=list)  # for a refusal: where to look instead
    ranked: list[ScoredFact] = field(default_factory=list)


def _refuse(q: Question, ranked: list[ScoredFact], reason: str, years: list[int] | None = None) -> Selection:
    return Selection(q, refused=True, reason=reason, missing_years=years or [], nearest=ranked[:5], ranked=ranked)


def _in_scope(q: Question, ranked: list[ScoredFact]) -> list[ScoredFact]:
    return [s for s in ranked if not q.plans or s.fact.plan in q.plans]


def select(q: Question, ranked: list[ScoredFact]) -> Selection:
    pool = _in_scope(q, ranked)
    if not pool:
        return _refuse(q, ranked, "")
    best = pool[0]
    if not q.measures and best.parts.get("dense", 0) < MIN_DENSE and best.parts.get("keyword", 0) < MIN_KEYWORD:
        return _refuse(q, pool, "")
    if "compare" in q.asks and not q.measures_named:
        return _compare(q, pool)
    hard = [a for a in q.asks if a in HARD_ASKS]
    if q.years and not q.asks_for("baseline"):
        # Named years: the answer must be about one of them.
        near = [s for s in pool if any(satisfies_year(s.fact, y) for y in q.years)
                and (s.group == best.group or s.score >= best.score - PART_MARGIN)]
        if not near:
            return _refuse(q, pool, "", q.years)
        first = _prefer(near, hard, best)
    else:
        near = [s for s in pool if s.group == best.group or s.score >= best.score - PART_MARGIN]
        first = _prefer(near, hard, best)
    picked = [first]
    # Each further asked part gets a fact that holds it, from the same measure or section first.
    for ask in hard:
        if any(satisfies(p.fact, ask) for p in picked):
            continue
        home = picked[0].group
        candidates = [s for s in pool if satisfies(s.fact, ask) and s not in picked]
        near = [s for s in candidates if s.group == home] or [s for s in candidates
                                                                if s.score >= picked[0].score - PART_MARGIN]
        if near:
            picked.append(near[0])
    # Counters asked for (何人, 何%): a fact that shows one.
    for unit in q.units:
        if not any(shows_unit(p.fact, unit) for p in picked):
            holder = next((s for s in pool if shows_unit(s.fact, unit)
                           and (s.group == picked[0].group or s.score >= picked[0].score - PART_MARGIN)), None)
            if holder is not None:
                picked.append(holder)
    picked = list(dict.fromkeys(picked))
    return Selection(q, picked=picked, support=_support(picked, pool), ranked=pool)


def _prefer(near: list[ScoredFact], hard: list[str], best: ScoredFact) -> ScoredFact:
    """The best candidate that holds the first asked kind of fact (same block as the best first)."""
    for ask in hard[:1]:
        holders = [s for s in near if satisfies(s.fact, ask)]
        if holders:
            home = [s for s in holders if s.group == best.group]
            return (home or holders)[0]
    return near[0] if near else best


def _compare(q: Question, pool: list[ScoredFact]) -> Selection:
    """One fact per plan in scope (both plans when none is named)."""
    plans = q.plans or list(dict.fromkeys(s.fact.plan for s in pool))
    picked = []
    for plan in plans:
        best = next((s for s in pool if s.fact.plan == plan), None)
        if best is not None:
            picked.append(best)
    return Selection(q, picked=picked, support=[], ranked=pool)


def _support(picked: list[ScoredFact], pool: list[ScoredFact]) -> list[ScoredFact]:
    """Next-best facts of the picked facts' measures or sections (not repeating them)."""
    groups = {p.group for p in picked}
    texts = {p.fact.text for p in picked}
    floor = picked[0].score - SUPPORT_MARGIN
    out = []
    for s in pool:
        if s in picked or s.fact.text in texts or s.group not in groups or s.score < floor:
            continue
        if s.fact.field in ("summary",) or _repeats(s.fact.text, texts):
            continue
        out.append(s)
        texts.add(s.fact.text)
        if len(out) == MAX_SUPPORT:
            break
    return out


def _bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in text if not ch.isspace())
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _repeats(text: str, shown: set[str]) -> bool:
    """Most of the sentence is already said (the background line that restates a KPI)."""
    grams = _bigrams(text)
    if not grams:
        return True
    said = set().union(*(_bigrams(t) for t in shown)) if shown else set()
    return len(grams & said) / len(grams) >= 0.7
