"""The evidence an LLM answers from: selected measures and sections as ``(key, label, text)``.

One small function on purpose: what counts as evidence (whole measures today)
changes independently of how the LLM is called and checked.
"""

from __future__ import annotations

from vectorstore.snapshot import Snapshot

EvidenceItem = tuple[str, str, str]  # key ("oita:3", "nobeoka:survey-4"), label, text


def llm_context(targets, snapshot: Snapshot) -> list[EvidenceItem]:
    """A measure brings all its chunks; a section brings the chunks retrieval found."""
    items: dict[str, tuple[str, list[str]]] = {}

    def add(key: str, label: str, chunks) -> None:
        texts = items.setdefault(key, (label, []))[1]
        texts += [c.embed_text for c in chunks if c.embed_text not in texts]

    for target in targets:
        plan = snapshot.plans.get(target.plan)
        if plan is None:
            continue
        if target.measure is None:
            for hit in target.hits:
                if hit.chunk.section:
                    add(f"{target.plan}:{hit.chunk.section}", f"{plan.info.city} {hit.chunk.title}", [hit.chunk])
            continue
        measure = plan.measure(int(target.measure))
        label = f"{plan.info.measure_name(target.measure)} {measure.title if measure else target.title}".strip()
        add(f"{target.plan}:{target.measure}", label,
            [c for c in snapshot.chunks if c.plan == target.plan and c.measure == target.measure])
    return [(key, label, "\n".join(texts)) for key, (label, texts) in items.items() if texts]
