#!/usr/bin/env python
"""How the index behaves as the corpus grows: 1×, 10×, 100× the two plans.

Synthetic corpora are copies of the parsed plans with other city names
(大分市 → 架空市N, 延岡市 → 仮想市N) and shifted numbers (every count, % and
so on + N), so each copy has its own chunks, chunk IDs, records and words.

* Embedding throughput is real: the model (no cache) embeds a sample of
  ``--sample`` chunks (default 64); the time for all chunks at each size is
  extrapolated from it.
* Vectors: the real chunks (1×) get their real vectors (from the embedding
  cache, computed with the model on a miss). Each synthetic chunk gets the
  vector of the real chunk it was copied from plus Gaussian noise,
  renormalised — so Chroma and the BM25 index have their real sizes and
  shapes without hours of embedding.
* Index build: the real code path (``write_generation`` + ``publish``,
  which also saves the keyword index; then ``load_snapshot`` as a server
  loads it). Tokenizing + building BM25 is timed on its own too: it is what
  every load cost before the keyword index was saved in the generation.
* Queries: ``--queries`` golden questions (default 50) with their plan, through
  the real query embedding, Chroma, BM25 and fusion (``Retriever.search``), and
  through the whole engine (``Assistant.ask``, extractive).

Each size runs in its own subprocess so RSS is measured cleanly. Temporary
folders are removed at the end (``--keep`` keeps them).

    python scripts/bench_growth.py --sizes 1,10,100 --queries 50
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from growth_corpus import (  # noqa: E402  (after the path set-up)
    LookupEmbeddings,
    chunk_key,
    du_mb,
    measure_embedding,
    pct,
    rss_mb,
    synthetic_plan,
)

TARGET_P95_S = 0.5

def run_size(size: int, queries: int, workdir: Path, seed: int, noise: float) -> dict:
    import numpy as np

    from assistant.query import analyse
    from assistant.retrieve import Retriever
    from assistant.service import Assistant
    from assistant.settings import load_settings
    from ingest.chunk import chunk_plan
    from ingest.pipeline import build_embeddings, parse_plans
    from ingest.records import plan_from_dict, plan_to_dict
    from vectorstore.keyword import KEYWORD_FILE, BM25Index, tokenize
    from vectorstore.snapshot import load_snapshot
    from vectorstore.store import new_generation_dir, publish, write_generation

    real_settings = load_settings()
    settings = real_settings.model_copy(update={"index_dir": workdir / "index", "feedback_db": workdir / "fb.sqlite3"})
    result: dict = {"size": size}

    # Real chunks and their real vectors (embedding cache; the model on a miss).
    embeddings = build_embeddings(real_settings)
    embeddings.warm_up()
    parsed = parse_plans(real_settings)
    base_chunks = {p.info.id: chunk_plan(p) for p in parsed}
    all_base = [c for cs in base_chunks.values() for c in cs]
    base_vecs = np.asarray(embeddings.embed_documents([c.embed_text for c in all_base]), dtype=np.float32)
    base_row = {c.id: i for i, c in enumerate(all_base)}
    result["rss_model_mb"] = rss_mb()["VmRSS"]

    # Synthetic copies: records via the JSON of the parsed plan, chunks by the real chunker.
    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    records: dict[str, dict] = {}
    chunks = []
    vec_rows: list[np.ndarray] = []
    cosines: list[float] = []
    for plan in parsed:
        data = plan_to_dict(plan)
        base = base_chunks[plan.info.id]
        base_by_key: dict = {}
        seen: dict = {}
        for c in base:
            base_by_key[chunk_key(c, seen)] = c
        for copy in range(size):
            if copy == 0:
                records[plan.info.id] = data
                chunks.extend(base)
                vec_rows.append(base_vecs[[base_row[c.id] for c in base]])
                continue
            synth = synthetic_plan(data, copy)
            records[synth["info"]["id"]] = synth
            new_chunks = chunk_plan(plan_from_dict(synth))
            seen = {}
            src = [base_by_key.get(chunk_key(c, seen), base[i % len(base)]) for i, c in enumerate(new_chunks)]
            orig = base_vecs[[base_row[c.id] for c in src]]
            v = orig + rng.normal(0.0, noise / np.sqrt(orig.shape[1]), size=orig.shape).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            vec_rows.append(v)
            chunks.extend(new_chunks)
            if copy == 1:
                cosines.append(float(np.mean(np.sum(v * orig, axis=1))))
    vectors = np.concatenate(vec_rows)
    del vec_rows
    ids = [c.id for c in chunks]
    assert len(set(ids)) == len(ids), "synthetic chunk IDs collide"
    row_of = {c.embed_text: i for i, c in enumerate(chunks)}
    result["chunks"] = len(chunks)
    result["plans"] = len(records)
    result["synth_s"] = round(time.perf_counter() - began, 1)
    result["copy_cosine"] = round(statistics.fmean(cosines), 3) if cosines else 1.0  # copy vs its real chunk

    # Build the generation with the real store code (Chroma vectors, chunks,
    # records, and the keyword index saved for readers).
    lookup = LookupEmbeddings(vectors, row_of, embeddings)
    meta = {"collection": f"bench-{size}x", "embedding": embeddings.signature, "plans": sorted(records)}
    began = time.perf_counter()
    path = new_generation_dir(settings.index_dir)
    gen = write_generation(path, chunks, {"plans": records}, lookup, meta)
    publish(settings.index_dir, gen)
    result["write_s"] = round(time.perf_counter() - began, 1)
    result["disk_mb"] = du_mb(gen.path)
    result["disk_chroma_mb"] = du_mb(gen.path / "chroma")
    result["disk_keyword_mb"] = round((gen.path / KEYWORD_FILE).stat().st_size / 1e6, 1)

    # The keyword index on its own: what every load cost before it was saved
    # in the generation (and still costs for a generation written without it).
    began = time.perf_counter()
    terms = [tokenize(c.embed_text) for c in chunks]
    result["tokenize_s"] = round(time.perf_counter() - began, 1)
    began = time.perf_counter()
    BM25Index(terms)
    result["bm25_build_s"] = round(time.perf_counter() - began, 1)
    result["dense_build_s"] = round(max(0.0, result["write_s"] - result["tokenize_s"] - result["bm25_build_s"]), 1)
    del lookup, vectors, row_of, chunks, records, terms
    gc.collect()
    result["rss_before_load_mb"] = rss_mb()["VmRSS"]

    # Load as a server does: chunks, records, Chroma, the saved keyword index.
    began = time.perf_counter()
    snap = load_snapshot(settings.index_dir, embeddings)
    result["load_s"] = round(time.perf_counter() - began, 1)
    gc.collect()
    mem = rss_mb()
    result["rss_loaded_mb"] = mem["VmRSS"]
    result["rss_index_mb"] = round(mem["VmRSS"] - result["rss_before_load_mb"], 1)

    # Queries: golden questions with their plan.
    rows = [json.loads(line) for p in sorted((ROOT / "tests" / "golden").glob("*.jsonl"))
            for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = random.Random(seed).sample(rows, min(queries, len(rows)))
    plans_info = {pid: p.info for pid, p in snap.plans.items()}
    known = snap.known_measures()
    retriever = Retriever(snap, embeddings, "hybrid")
    parts = defaultdict(list)
    orig_embed, orig_dense, orig_top = embeddings.embed_query, snap.dense.similarity_search_by_vector_with_relevance_scores, snap.keyword.top

    def wrap(name, fn):
        def inner(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                parts[name].append(time.perf_counter() - t)
        return inner

    embeddings.embed_query = wrap("embed", orig_embed)
    snap.dense.similarity_search_by_vector_with_relevance_scores = wrap("chroma", orig_dense)
    snap.keyword.top = wrap("bm25", orig_top)
    retrieve_times = []
    hits_expected = 0
    for i, row in enumerate([picked[0], *picked]):  # the first one warms up
        plan = None if row.get("plan") in (None, "both") else row["plan"]
        t = time.perf_counter()
        query = analyse(row["question"], plans_info, known, plan)
        found = retriever.search(query)
        elapsed = time.perf_counter() - t
        if i == 0:
            parts.clear()
            continue
        retrieve_times.append(elapsed)
        top = {f"{h.plan}:{h.measure}" for h in found.measures[:5]}
        hits_expected += bool(set(row.get("expected_measures", [])) & top) or not row.get("expected_measures")
    search_times = [r - e for r, e in zip(retrieve_times, parts["embed"], strict=True)]
    embeddings.embed_query = orig_embed
    snap.dense.similarity_search_by_vector_with_relevance_scores = orig_dense
    snap.keyword.top = orig_top

    del snap, retriever
    gc.collect()
    assistant = Assistant(settings, embeddings)  # loads the generation itself, as a server does
    ask_times, ask_errors, ask_error_examples = [], 0, []
    for i, row in enumerate([picked[0], *picked]):
        plan = None if row.get("plan") in (None, "both") else row["plan"]
        t = time.perf_counter()
        try:
            assistant.ask(row["question"], plan=plan)
        except Exception as exc:  # noqa: BLE001 - counted
            ask_errors += 1
            ask_error_examples.append(f"{type(exc).__name__}: {exc}"[:300])
        if i:
            ask_times.append(time.perf_counter() - t)

    result.update({
        "queries": len(retrieve_times),
        "retrieve_p50_ms": round(pct(retrieve_times, 0.5) * 1000, 1),
        "retrieve_p95_ms": round(pct(retrieve_times, 0.95) * 1000, 1),
        "retrieve_max_ms": round(max(retrieve_times) * 1000, 1),
        # the part that grows with the corpus: Chroma + BM25 + fusion, without the query embedding
        "search_p50_ms": round(pct(search_times, 0.5) * 1000, 1),
        "search_p95_ms": round(pct(search_times, 0.95) * 1000, 1),
        "embed_p50_ms": round(pct(parts["embed"], 0.5) * 1000, 1),
        "chroma_p50_ms": round(pct(parts["chroma"], 0.5) * 1000, 1),
        "chroma_p95_ms": round(pct(parts["chroma"], 0.95) * 1000, 1),
        "bm25_p50_ms": round(pct(parts["bm25"], 0.5) * 1000, 1),
        "bm25_p95_ms": round(pct(parts["bm25"], 0.95) * 1000, 1),
        "ask_p50_ms": round(pct(ask_times, 0.5) * 1000, 1),
        "ask_p95_ms": round(pct(ask_times, 0.95) * 1000, 1),
        "ask_errors": ask_errors,
        "ask_error_examples": sorted(set(ask_error_examples))[:3],
        "expected_in_top5": f"{hits_expected}/{len(retrieve_times)}",
        "rss_after_queries_mb": rss_mb()["VmRSS"],  # Chroma loads its HNSW index on the first query
        "rss_peak_mb": rss_mb()["VmHWM"],
    })
    return result


# --- the parent: one child per size, then the table ----------------------------------

def child(args: list[str], timeout: float, threads: int = 0) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)} if threads else None
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"子プロセスが失敗しました（{' '.join(args)}）:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def table(rows: list[dict], embed: dict | None) -> str:
    cols = [
        ("size", "size", "{}×"), ("chunks", "chunks", "{}"), ("plans", "plans", "{}"),
        ("write s", "write_s", "{}"), ("dense s", "dense_build_s", "{}"), ("tokenize s", "tokenize_s", "{}"),
        ("BM25 s", "bm25_build_s", "{}"), ("load s", "load_s", "{}"), ("disk MB", "disk_mb", "{}"), ("RSS MB", "rss_loaded_mb", "{}"),
        ("index RSS MB", "rss_index_mb", "{}"), ("RSS after queries MB", "rss_after_queries_mb", "{}"),
        ("search p50/p95 ms", None, None), ("embed p50 ms", "embed_p50_ms", "{}"),
        ("retrieve p50 ms", "retrieve_p50_ms", "{}"), ("retrieve p95 ms", "retrieve_p95_ms", "{}"), ("chroma p50/p95 ms", None, None),
        ("BM25 p50/p95 ms", None, None), ("ask p50 ms", "ask_p50_ms", "{}"), ("ask p95 ms", "ask_p95_ms", "{}"),
        ("top5 hit", "expected_in_top5", "{}"),
    ]
    head = [c[0] for c in cols]
    body = []
    for r in rows:
        line = []
        for name, key, fmt in cols:
            if name.startswith("search"):
                line.append(f"{r['search_p50_ms']}/{r['search_p95_ms']}")
            elif name.startswith("chroma"):
                line.append(f"{r['chroma_p50_ms']}/{r['chroma_p95_ms']}")
            elif name.startswith("BM25 p"):
                line.append(f"{r['bm25_p50_ms']}/{r['bm25_p95_ms']}")
            else:
                line.append(fmt.format(r.get(key, "-")))
        body.append(line)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(v.rjust(w) for v, w in zip(b, widths, strict=True)) + " |" for b in body]
    text = "\n".join(out)
    if embed:
        rate = embed["chunks_per_s"]
        est = ", ".join(f"{r['size']}× {r['chunks']} chunks ≈ {r['chunks'] / rate / 60:.1f} min" for r in rows)
        per = "; ".join(f"{n} thread{'s' if int(n) > 1 else ''}: {v['chunks_per_s']} chunks/s, query {v['query_embed_p50_ms']} ms"
                        for n, v in embed["by_threads"].items())
        text += (
            f"\n\nEmbedding (real model, {embed['dtype']}, max_seq_length {embed['max_seq_length']}, {embed['cpus']} CPUs, "
            f"{embed['sample']} chunks, load {embed['model_load_s']} s) — {per}."
            f"\nFull embedding at {rate} chunks/s: {est}."
        )
    largest = max(rows, key=lambda r: r["size"])

    def verdict(ms: float) -> str:
        return "OK" if ms / 1000 <= TARGET_P95_S else "MISSED"

    text += (
        f"\nTarget p95 ≤ {TARGET_P95_S} s at {largest['size']}×: "
        f"search (Chroma + BM25 + fusion) {largest['search_p95_ms']} ms → {verdict(largest['search_p95_ms'])}; "
        f"with the query embedding {largest['retrieve_p95_ms']} ms → {verdict(largest['retrieve_p95_ms'])}; "
        f"whole ask {largest['ask_p95_ms']} ms → {verdict(largest['ask_p95_ms'])}."
        f"\nLoad average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work slows every number)."
    )
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,100", help="corpus multiples (default 1,10,100)")
    parser.add_argument("--queries", type=int, default=50, help="golden questions per size (default 50)")
    parser.add_argument("--sample", type=int, default=64, help="chunks embedded with the real model (default 64)")
    parser.add_argument("--noise", type=float, default=0.3, help="norm of the noise added to copied vectors (default 0.3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary index folders")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per size (default 1800)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for the size runs (OMP_NUM_THREADS; 0 = torch's default, one per core)")
    parser.add_argument("--child-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-embed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_embed:
        from assistant.settings import load_settings

        print(json.dumps(measure_embedding(load_settings(), args.sample, args.seed)))
        return 0
    if args.child_size:
        print(json.dumps(run_size(args.child_size, args.queries, Path(args.workdir), args.seed, args.noise)))
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or any(s < 1 or s > 1000 for s in sizes):
        parser.error("--sizes は 1〜1000 の整数をカンマ区切りで")
    root = Path(tempfile.mkdtemp(prefix="planqa-growth-"))
    rows = []
    try:
        print(f"embedding throughput ({args.sample} chunks, real model)…", file=sys.stderr, flush=True)
        embed = child(["--child-embed", "--sample", str(args.sample), "--seed", str(args.seed)], args.timeout)
        for size in sizes:
            print(f"{size}× …", file=sys.stderr, flush=True)
            workdir = root / f"x{size}"
            workdir.mkdir()
            rows.append(child(["--child-size", str(size), "--queries", str(args.queries), "--workdir", str(workdir),
                               "--seed", str(args.seed), "--noise", str(args.noise)], args.timeout, args.threads))
            print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    finally:
        if args.keep:
            print(f"kept: {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(table(rows, embed))
    print(f"Query runs used {args.threads or 'the default number of'} torch thread(s).")
    if args.json:
        print(json.dumps({"embedding": embed, "sizes": rows}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
