"""Exact dense search over a generation's saved vectors, with NumPy only.

Ingest writes the chunk vectors (unit length, chunk order) next to the Chroma
collection as :data:`VECTORS_FILE`. Reading them back needs neither chromadb
nor langchain-chroma, whose imports alone cost seconds in a fresh process, and
an exact search over a few hundred (or a hundred times as many) vectors is one
matrix-vector product. The class answers the one search call the retriever
makes on a LangChain ``Chroma`` store, with Chroma's cosine distance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

VECTORS_FILE = "vectors.npy"
FACT_VECTORS_FILE = "fact-vectors.npy"  # the facts' vectors, in facts.json order


@dataclass
class DenseDoc:
    """What the retriever reads from a search hit: the chunk id (and its metadata)."""

    id: str
    metadata: dict = field(default_factory=dict)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def save_vectors(path: Path, vectors: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, unit_rows(vectors), allow_pickle=False)
    tmp.replace(path)


def load_vectors(path: Path) -> np.ndarray:
    """The saved vectors, memory-mapped; ValueError or OSError when the file is damaged."""
    vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    if vectors.ndim != 2 or vectors.dtype != np.float32:
        raise ValueError(f"shape {vectors.shape}, dtype {vectors.dtype}")
    return vectors


class DenseIndex:
    """Unit vectors in chunk order; ``plans`` gives each row's plan id for filters."""

    def __init__(self, vectors: np.ndarray, ids: list[str], plans: list[str]):
        if len(vectors) != len(ids) or len(ids) != len(plans):
            raise ValueError(f"vectors {len(vectors)}, ids {len(ids)}, plans {len(plans)}")
        self.vectors = vectors
        self.ids = ids
        self.plans = np.array(plans)

    def _mask(self, where: dict | None) -> np.ndarray | None:
        if not where:
            return None
        if set(where) != {"plan"}:
            raise ValueError(f"unsupported filter: {where}")
        wanted = where["plan"]
        if isinstance(wanted, dict):
            if set(wanted) != {"$in"}:
                raise ValueError(f"unsupported filter: {where}")
            return np.isin(self.plans, list(wanted["$in"]))
        return self.plans == wanted

    def similarity_search_by_vector_with_relevance_scores(
        self, embedding: list[float], k: int = 4, filter: dict | None = None
    ) -> list[tuple[DenseDoc, float]]:
        """The ``k`` nearest chunks as (doc, cosine distance), nearest first."""
        if len(self.ids) == 0:
            return []
        query = unit_rows(np.asarray(embedding, dtype=np.float32)[None, :])[0]
        sims = self.vectors @ query
        mask = self._mask(filter)
        candidates = np.flatnonzero(mask) if mask is not None else np.arange(len(sims))
        if len(candidates) == 0:
            return []
        k = min(k, len(candidates))
        part = candidates[np.argpartition(-sims[candidates], k - 1)[:k]]
        best = part[np.argsort(-sims[part], kind="stable")]
        return [(DenseDoc(self.ids[i], {"plan": str(self.plans[i])}), float(1.0 - sims[i])) for i in best]

    def get(self, include: list[str] | None = None) -> dict:
        """Chroma's ``get`` for the ids (what the tests and tools read)."""
        return {"ids": list(self.ids)}
