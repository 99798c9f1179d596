"""One published index generation, loaded for reading: chunks, records, keyword
index and the dense vectors. Immutable once loaded; the assistant swaps in a
new snapshot when ``CURRENT`` changes.

A local generation's vectors are read from its ``vectors.npy`` and searched
with NumPy (:mod:`vectorstore.dense`): no chromadb import, which is most of a
fresh process's start. With a Chroma server, or for a generation written
before ``vectors.npy`` existed, the Chroma collection answers instead.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ingest.chunk import Chunk
from ingest.facts import Fact
from ingest.records import ParsedPlan, plan_from_dict
from vectorstore.dense import FACT_VECTORS_FILE, VECTORS_FILE, DenseIndex, load_vectors
from vectorstore.keyword import KEYWORD_FILE, BM25Index, tokenize
from vectorstore.store import (
    FACT_KEYWORD_FILE,
    REBUILD_HINT,
    ChromaUnavailable,
    CorruptIndex,
    Generation,
    OtherEmbedding,
    chroma_client,
    current_generation,
    vector_store,
)

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings


@dataclass
class Snapshot:
    generation: Generation
    chunks: list[Chunk]
    plans: dict[str, ParsedPlan]
    keyword: BM25Index
    dense: Any  # DenseIndex, or a LangChain Chroma store (server, older generations)
    by_id: dict[str, int] = field(default_factory=dict)
    plan_mask: dict[str, np.ndarray] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    fact_keyword: BM25Index | None = None
    fact_vectors: np.ndarray | None = None  # local generations: unit vectors in facts order
    fact_dense: Any = None  # a Chroma store (server, older generations) when there is no vector file
    fact_by_id: dict[str, int] = field(default_factory=dict)
    fact_plan_mask: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.generation.name

    def known_measures(self) -> dict[str, set[int]]:
        return {pid: {m.number for m in plan.measures} for pid, plan in self.plans.items()}


def load_snapshot(index_dir: Path, embeddings: Embeddings, chroma_url: str | None = None) -> Snapshot:
    gen = current_generation(index_dir)
    built, now = gen.meta.get("embedding"), getattr(embeddings, "signature", None)
    if isinstance(built, str) and isinstance(now, str) and built != now:
        # questions embedded differently from the documents would be compared in different spaces
        raise OtherEmbedding(f"索引は別の埋め込み（{built}）で作られています。今の設定（{now}）で使うには{REBUILD_HINT}")
    try:
        chunks = gen.chunks()
        facts = gen.facts()
        records = gen.read_json("records.json")["plans"]
        plans = {pid: plan_from_dict(data) for pid, data in records.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptIndex(f"索引のファイルを読めません（{gen.path}: {exc}）。{REBUILD_HINT}") from exc
    url = chroma_url or gen.meta.get("chroma_url") or None
    if not url and (gen.path / VECTORS_FILE).is_file():
        try:
            vectors = load_vectors(gen.path / VECTORS_FILE)
        except (OSError, ValueError) as exc:
            raise CorruptIndex(f"ベクトル索引を読めません（{gen.path / VECTORS_FILE}: {exc}）。{REBUILD_HINT}") from exc
        if len(vectors) != len(chunks):
            raise CorruptIndex(f"ベクトル索引の件数が合いません（{len(vectors)} / {len(chunks)}）。{REBUILD_HINT}")
        fact_vectors = _vectors(gen.path / FACT_VECTORS_FILE, len(facts))
        dense = DenseIndex(vectors, [c.id for c in chunks], [c.plan for c in chunks])
        snap = Snapshot(gen, chunks, plans, _keyword(gen, chunks), dense, facts=facts,
                        fact_keyword=_fact_keyword(gen, facts), fact_vectors=fact_vectors)
        return _finish(snap, plans)
    client = None
    try:
        client = chroma_client(url, None if url else gen.path / "chroma")
        dense = vector_store(client, gen.collection, embeddings)
        count = dense._collection.count()
        fact_dense = vector_store(client, gen.fact_collection, embeddings)
        fact_count = fact_dense._collection.count()
    except ChromaUnavailable:
        raise
    except Exception as exc:  # chromadb raises many kinds on a damaged store
        if client is not None:
            client.close()
        raise CorruptIndex(f"ベクトル索引を開けません（{gen.path}: {exc}）。{REBUILD_HINT}") from exc
    if count != len(chunks) or fact_count != len(facts):
        client.close()
        raise CorruptIndex(f"ベクトル索引の件数が合いません（{count} / {len(chunks)}、事実 {fact_count} / {len(facts)}）。"
                           f"{REBUILD_HINT}")
    snap = Snapshot(gen, chunks, plans, _keyword(gen, chunks), dense, facts=facts,
                    fact_keyword=_fact_keyword(gen, facts), fact_dense=fact_dense)
    # Chroma keeps one System (SQLite handles, HNSW index in memory) per path
    # until every client on it is closed: close ours once no reader holds this
    # snapshot, or each re-ingest would leak the previous generation's.
    weakref.finalize(snap, client.close)
    return _finish(snap, plans)


def _vectors(path: Path, rows: int) -> np.ndarray:
    try:
        vectors = load_vectors(path)
    except (OSError, ValueError) as exc:
        raise CorruptIndex(f"ベクトル索引を読めません（{path}: {exc}）。{REBUILD_HINT}") from exc
    if len(vectors) != rows:
        raise CorruptIndex(f"ベクトル索引の件数が合いません（{path.name}: {len(vectors)} / {rows}）。{REBUILD_HINT}")
    return vectors


def _fact_keyword(gen: Generation, facts: list[Fact]) -> BM25Index:
    return BM25Index.load(gen.path / FACT_KEYWORD_FILE, len(facts)) or BM25Index([tokenize(f.embed_text) for f in facts])


def _keyword(gen: Generation, chunks: list[Chunk]) -> BM25Index:
    return BM25Index.load(gen.path / KEYWORD_FILE, len(chunks)) or BM25Index([tokenize(c.embed_text) for c in chunks])


def _finish(snap: Snapshot, plans: dict[str, ParsedPlan]) -> Snapshot:
    snap.by_id = {c.id: i for i, c in enumerate(snap.chunks)}
    plan_ids = np.array([c.plan for c in snap.chunks])
    snap.plan_mask = {pid: plan_ids == pid for pid in plans}
    snap.fact_by_id = {f.id: i for i, f in enumerate(snap.facts)}
    fact_plans = np.array([f.plan for f in snap.facts])
    snap.fact_plan_mask = {pid: fact_plans == pid for pid in plans}
    return snap
