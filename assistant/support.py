"""The one or two sentences said after the answering facts: the plan's own sentences about its
period, or the best-scoring facts near the picked ones that add something not yet said."""

from __future__ import annotations

import re

from assistant.fact_search import ScoredFact

__all__ = ["MAX_SUPPORT", "period_source", "supporting"]

SUPPORT_MARGIN = 0.25
OPEN_SUPPORT_MARGIN = 0.6
MAX_SUPPORT = 2


_PERIOD_SAID = re.compile(r"(本|この)計画の(計画)?期間[^。]{0,12}(令和|平成|\d{4}年)")  # not another plan's period


def period_source(picked: list[ScoredFact], pool: list[ScoredFact]) -> list[ScoredFact]:
    """The plan period (from the plan list) is followed by the plan's own sentences about it
    (「…までの5年間とします。…随時見直しを行う」): the best two of the section that states it."""
    if picked[0].fact.field != "plan":
        return []
    plan = picked[0].fact.plan
    said = next((s for s in pool if s.fact.plan == plan and s.fact.field == "section"
                 and _PERIOD_SAID.search(s.fact.text)), None)
    if said is None:
        return []
    return [s for s in pool if s.group == said.group and s not in picked][:MAX_SUPPORT]


def supporting(picked: list[ScoredFact], pool: list[ScoredFact], open_question: bool = False) -> list[ScoredFact]:
    """Next-best facts of the picked facts' measures or sections (not repeating them).
    An open question (what does it do, why) takes them from further down: the measure's
    other sentences are the answer's body."""
    groups = {p.group for p in picked}
    texts = {p.fact.text for p in picked}
    floor = picked[0].score - (OPEN_SUPPORT_MARGIN if open_question else SUPPORT_MARGIN)
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
