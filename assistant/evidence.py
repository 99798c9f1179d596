"""The evidence an LLM answers from: the selected facts' measures and sections as
``(key, label, text)``.

The reader's selection decides what the answer rests on; the LLM reads the same
facts (first the picked ones, then the rest of their measure or section in plan
order) so the extractive answer and the LLM's answer come from one evidence set.
"""

from __future__ import annotations

EvidenceItem = tuple[str, str, str]  # key ("oita:3", "nobeoka:ch5-1"), label, text
MAX_FACTS_PER_ITEM = 24


def llm_context(selection, snapshot) -> list[EvidenceItem]:
    """One item per measure or section of the selection's facts."""
    if selection is None:
        return []
    chosen = [s.fact for s in list(selection.picked) + list(selection.support)]
    items: dict[str, tuple[str, list[str]]] = {}
    for fact in chosen:
        key = f"{fact.plan}:{fact.measure}" if fact.measure is not None else f"{fact.plan}:{fact.section or fact.field}"
        if key in items:
            continue
        plan = snapshot.plans.get(fact.plan)
        city = plan.info.city if plan else fact.plan
        label = (f"{plan.info.measure_name(fact.measure)} {fact.title}" if plan and fact.measure is not None
                 else f"{city} {fact.title}")
        same = [f for f in snapshot.facts if f.plan == fact.plan and f.measure == fact.measure
                and (fact.measure is not None or f.section == fact.section)]
        first = [f for f in chosen if f in same]
        rest = [f for f in same if f not in first]
        lines = [f"{f.context}: {f.text}" for f in (first + rest)[:MAX_FACTS_PER_ITEM]]
        items[key] = (label, lines)
    return [(key, label, "\n".join(lines)) for key, (label, lines) in items.items() if lines]
