"""Synthetic corpora and measuring helpers for ``bench_growth.py``.

A copy of a parsed plan gets another city name (大分市 → 架空市N, 延岡市 → 仮想市N)
and shifted numbers (every count, % and so on + N), so each copy has its own
chunks, facts, IDs, records and words. Copied chunks and facts reuse the vector
of the real chunk or fact they were copied from plus noise (``LookupEmbeddings``),
so the index has its real size without hours of embedding; ``measure_embedding``
times the real model on a sample.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import defaultdict
from pathlib import Path

UNITS = r"(?=\s*(?:件|%|％|人|名|回|校|か所|箇所|カ所|団体|台|点|施設|業務|機関|橋|社|本|個|部|枚|手続|種類|割))"
NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?" + UNITS)
CITIES = {"oita": ("大分市", "架空市"), "nobeoka": ("延岡市", "仮想市")}


# --- helpers -------------------------------------------------------------------

def rss_mb() -> dict[str, float]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def du_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def shift_numbers(text: str, by: int) -> str:
    def repl(m: re.Match[str]) -> str:
        raw = m.group(1)
        value = int(raw.replace(",", "")) + by
        return f"{value:,}" if "," in raw else str(value)

    return NUMBER.sub(repl, text)


def synthetic_plan(data: dict, copy: int) -> dict:
    """A parsed plan (records dict) as another city: new id, city name, numbers + copy."""
    pid = data["info"]["id"]
    real, fake = CITIES.get(pid, (data["info"]["city"], "架空市"))
    text = json.dumps(data, ensure_ascii=False).replace(real, f"{fake}{copy}")
    text = shift_numbers(text, copy)
    out = json.loads(text)
    out["info"]["id"] = f"{pid}-x{copy:03d}"
    out["info"]["city"] = f"{fake}{copy}"
    return out


def chunk_key(chunk, seen: dict) -> tuple:
    base = (chunk.measure, chunk.field, chunk.year, chunk.section)
    n = seen[base] = seen.get(base, -1) + 1
    return (*base, n)


def fact_key(fact, seen: dict) -> tuple:
    base = (fact.measure, fact.section, fact.block, fact.field, fact.order)
    n = seen[base] = seen.get(base, -1) + 1
    return (*base, n)


def sources(copies: list, originals: list, key) -> tuple[list, int]:
    """The real item each copied item stems from (same place in the plan), and how many
    had no match (a copy whose text split differently takes an item by position)."""
    seen: dict = {}
    by_key = {key(x, seen): x for x in originals}
    seen = {}
    out, missed = [], 0
    for i, item in enumerate(copies):
        found = by_key.get(key(item, seen))
        missed += found is None
        out.append(found if found is not None else originals[i % len(originals)])
    return out, missed


def noisy(vectors, rng, noise: float):
    """Unit vectors near ``vectors``: Gaussian noise of norm ≈ ``noise``, renormalised."""
    import numpy as np

    v = vectors + rng.normal(0.0, noise / np.sqrt(vectors.shape[1]), size=vectors.shape).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def ms(values: list[float], q: float) -> float:
    return round(pct(values, q) * 1000, 1) if values else 0.0


class Stopwatch:
    """Time spent in wrapped calls since the last ``start()`` (one question), by name."""

    def __init__(self):
        self.now: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.now[name] += time.perf_counter() - began
        return timed

    def start(self) -> None:
        self.now.clear()


class LookupEmbeddings:
    """Precomputed document vectors by text; queries go to the real model."""

    def __init__(self, vectors, row_of: dict[str, int], real):
        self.vectors, self.row_of, self.real = vectors, row_of, real
        self.signature = "bench-growth"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.vectors[[self.row_of[t] for t in texts]].tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.real.embed_query(text)


def measure_embedding(settings, sample: int, seed: int) -> dict:
    """The configured model and runtime, no cache: load time, documents per second and
    the query embedding, with the thread count of the environment (``OMP_NUM_THREADS``)."""
    from ingest.chunk import chunk_plan
    from ingest.pipeline import build_embeddings, parse_plans

    chunks = [c for p in parse_plans(settings) for c in chunk_plan(p)]
    texts = [c.embed_text for c in random.Random(seed).sample(chunks, min(sample, len(chunks)))]
    model = build_embeddings(settings)
    model.cache_path = None  # every document through the model
    began = time.perf_counter()
    model.warm_up()
    model.embed_query("ウォームアップ")
    load_s = time.perf_counter() - began
    model.embed_documents(texts[:4])  # settle the thread pool
    began = time.perf_counter()
    model.embed_documents(texts)
    docs_s = time.perf_counter() - began
    query_times = []
    for text in texts[:20]:
        model._queries.clear()  # the query LRU would answer repeats
        began = time.perf_counter()
        model.embed_query(text[:60])
        query_times.append(time.perf_counter() - began)
    return {"model_load_s": round(load_s, 1), "sample": len(texts), "runtime": getattr(model, "runtime", "?"),
            "dtype": model.dtype, "max_seq_length": model.max_seq_length, "cpus": os.cpu_count(),
            "threads": os.environ.get("OMP_NUM_THREADS") or "default", "embed_s": round(docs_s, 2),
            "chunks_per_s": round(len(texts) / docs_s, 1), "query_embed_p50_ms": round(pct(query_times, 0.5) * 1000, 1)}
