"""Ingest: manifest → parse → chunk → embed into a new index generation → publish."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.settings import Settings
from ingest.chunk import Chunk, chunk_plan
from ingest.facts import Fact, extract_facts
from ingest.load import ManifestError, load_manifest, read_plan_text
from ingest.parsers import get_parser
from ingest.records import ParsedPlan, plan_from_dict, plan_to_dict
from vectorstore.store import (
    MissingIndex,
    current_generation,
    new_generation_dir,
    publish,
    reusable_generation,
    write_generation,
)

if TYPE_CHECKING:
    from vectorstore.embeddings import CachedEmbeddings


@dataclass
class IngestReport:
    plans: dict[str, dict[str, int]] = field(default_factory=dict)  # id → measures/sections/glossary/chunks
    chunks: int = 0
    facts: int = 0
    embedded: int = 0  # chunks that needed the model (cache misses)
    seconds: float = 0.0
    generation: str = ""


def parse_plans(settings: Settings, only: str | None = None) -> list[ParsedPlan]:
    plans = load_manifest(settings.manifest_path)
    if only and only not in {p.id for p in plans}:
        known = ", ".join(p.id for p in plans)
        raise ManifestError(f"計画 ID「{only}」は manifest.json にありません（ある ID: {known}）")
    return [get_parser(info.parser)(read_plan_text(info, settings.data_dir), info) for info in plans
            if not only or info.id == only]


def build_embeddings(settings: Settings, progress: bool = False) -> CachedEmbeddings:
    from vectorstore.embeddings import build_embeddings as build

    return build(settings, progress)


def ingest(
    settings: Settings,
    only: str | None = None,
    embeddings: CachedEmbeddings | None = None,
    progress: bool = True,
    log: Callable[[str], None] = lambda _msg: None,
) -> IngestReport:
    """Build and publish a new index generation. ``only`` re-parses one plan and
    keeps the others' chunks and records from the current generation."""
    from tqdm.auto import tqdm

    started = time.perf_counter()
    parsed = parse_plans(settings, only)
    kept_chunks: list[Chunk] = []
    kept_facts: list[Fact] = []
    records: dict[str, dict] = {}
    if only:
        try:
            gen = current_generation(settings.index_dir)
            manifest_ids = {p.id for p in load_manifest(settings.manifest_path)}
            kept_chunks = [c for c in gen.chunks() if c.plan != only and c.plan in manifest_ids]
            kept_facts = [f for f in gen.facts() if f.plan != only and f.plan in manifest_ids]
            old = gen.read_json("records.json")["plans"]
            records = {pid: data for pid, data in old.items() if pid != only and pid in manifest_ids}
        except MissingIndex:
            log("既存の索引がないため、すべての計画を取り込みます。")
            parsed = parse_plans(settings)
    report = IngestReport()
    chunks = list(kept_chunks)
    facts = list(kept_facts)
    for plan in parsed:
        chunks.extend(chunk_plan(plan))
        facts.extend(extract_facts(plan))
        records[plan.info.id] = plan_to_dict(plan)
    for pid, data in records.items():
        plan = plan_from_dict(data)
        report.plans[pid] = {
            "measures": len(plan.measures),
            "sections": len(plan.sections),
            "glossary": len(plan.glossary),
            "chunks": sum(1 for c in chunks if c.plan == pid),
            "facts": sum(1 for f in facts if f.plan == pid),
        }
    embeddings = embeddings or build_embeddings(settings)
    signature = getattr(embeddings, "signature", type(embeddings).__name__)
    digest = hashlib.sha1("\n".join([signature, *sorted(c.id for c in chunks), *sorted(f.id for f in facts)]).encode()
                          ).hexdigest()[:12]
    meta = {"collection": f"{settings.collection}-{digest}", "embedding": signature, "plans": sorted(records)}
    # Embed everything in one call first: the model sorts all texts by length
    # (less padding than per-batch calls) and the cache makes the store's own
    # embedding calls below free.
    before = _cache_misses(embeddings)
    if hasattr(embeddings, "cache_path") and embeddings.cache_path is not None:
        embeddings.progress = progress
        embeddings.embed_documents([c.embed_text for c in chunks] + [f.embed_text for f in facts])
        embeddings.progress = False
    report.embedded = _cache_misses(embeddings) - before
    reuse = None if settings.chroma_url else reusable_generation(settings.index_dir, meta, chunks, facts)
    path = new_generation_dir(settings.index_dir)
    with tqdm(total=len(chunks) + len(facts), desc="埋め込み・索引作成", unit="件", disable=not progress) as bar:
        gen = write_generation(path, chunks, {"plans": records}, embeddings, meta, settings.chroma_url, bar.update,
                               reuse, facts=facts)
    publish(settings.index_dir, gen)
    report.chunks = len(chunks)
    report.facts = len(facts)
    report.seconds = time.perf_counter() - started
    report.generation = gen.name
    return report


def _cache_misses(embeddings) -> int:
    return getattr(embeddings, "encoded_total", 0)
