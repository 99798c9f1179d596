#!/usr/bin/env python
"""How the index behaves as the corpus grows: 1×, 10×, 100× the two plans.

Synthetic corpora are copies of the parsed plans with other city names
(大分市 → 架空市N, 延岡市 → 仮想市N) and shifted numbers (every count, % and
so on + N), so each copy has its own chunks, facts, IDs, records and words.

* Embedding throughput is real: the configured model (no cache) embeds a sample
  of ``--sample`` chunks (default 32); the time for all chunks and facts at
  each size is extrapolated from it.
* Vectors: the real chunks and facts (1×) get their real vectors (from the
  embedding cache, computed with the model on a miss). Each synthetic chunk or
  fact gets the vector of the real one it was copied from (same place in the
  plan) plus Gaussian noise, renormalised — so the vector files, Chroma and the
  BM25 indexes have their real sizes and shapes without hours of embedding.
* Index build: the real code path (``write_generation(..., facts=...)`` +
  ``publish``, which also saves both keyword indexes). Tokenizing + building
  BM25 is timed on its own too: what a load costs for a generation without them.
* Load as a server does at its first question: the snapshot (``load_snapshot``)
  and the reader over it (fact table, corpora for the refusal checks).
* Queries: ``--queries`` golden questions (default 50) with their plan,
  through the retriever's view (``Assistant.search``: query embedding, dense,
  BM25, fusion, measure ranking) and through the whole engine (``Assistant.ask``,
  extractive), timing the query embedding and the fact scoring (``score_facts``)
  inside it. The query LRU is cleared before each question.

Each size runs in its own subprocess so RSS is measured cleanly. Temporary
folders are removed at the end (``--keep`` keeps them).

    python scripts/bench_growth.py --sizes 1,10,100 --queries 50 --threads 1
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
    Stopwatch,
    chunk_key,
    du_mb,
    fact_key,
    measure_embedding,
    ms,
    noisy,
    rss_mb,
    sources,
    synthetic_plan,
)

TARGET_P95_S = 0.5


def build_corpus(parsed, embeddings, size: int, seed: int, noise: float) -> tuple[dict, list, list, object, dict]:
    """Records, chunks, facts and their vectors (one array, chunks then facts) for ``size`` copies."""
    import numpy as np

    from ingest.chunk import chunk_plan
    from ingest.facts import extract_facts
    from ingest.records import plan_from_dict, plan_to_dict

    base_chunks = {p.info.id: chunk_plan(p) for p in parsed}
    base_facts = {p.info.id: extract_facts(p) for p in parsed}
    real = [c for cs in base_chunks.values() for c in cs] + [f for fs in base_facts.values() for f in fs]
    real_vecs = np.asarray(embeddings.embed_documents([x.embed_text for x in real]), dtype=np.float32)
    row = {x.id: i for i, x in enumerate(real)}
    rng = np.random.default_rng(seed)
    records: dict[str, dict] = {}
    chunks, facts, chunk_rows, fact_rows = [], [], [], []
    stats = {"cosines": [], "unmatched_chunks": 0, "unmatched_facts": 0}
    for plan in parsed:
        data = plan_to_dict(plan)
        pid = plan.info.id
        for copy in range(size):
            if copy == 0:
                records[pid] = data
                chunks += base_chunks[pid]
                facts += base_facts[pid]
                chunk_rows.append(real_vecs[[row[c.id] for c in base_chunks[pid]]])
                fact_rows.append(real_vecs[[row[f.id] for f in base_facts[pid]]])
                continue
            synth = synthetic_plan(data, copy)
            records[synth["info"]["id"]] = synth
            copied = plan_from_dict(synth)
            for items, base, key, out, rows, name in (
                (chunk_plan(copied), base_chunks[pid], chunk_key, chunks, chunk_rows, "chunks"),
                (extract_facts(copied), base_facts[pid], fact_key, facts, fact_rows, "facts"),
            ):
                src, missed = sources(items, base, key)
                stats[f"unmatched_{name}"] += missed
                orig = real_vecs[[row[x.id] for x in src]]
                vecs = noisy(orig, rng, noise)
                rows.append(vecs)
                out += items
                if copy == 1:
                    stats["cosines"].append(float(np.mean(np.sum(vecs * orig, axis=1))))
    vectors = np.concatenate(chunk_rows + fact_rows)
    return records, chunks, facts, vectors, stats


def run_size(size: int, queries: int, workdir: Path, seed: int, noise: float) -> dict:
    import assistant.reader as reader_module
    import assistant.service as service_module
    from assistant.fact_search import FactTable
    from assistant.service import Assistant
    from assistant.settings import load_settings
    from ingest.pipeline import build_embeddings, parse_plans
    from vectorstore.dense import FACT_VECTORS_FILE, VECTORS_FILE
    from vectorstore.keyword import KEYWORD_FILE, BM25Index, tokenize
    from vectorstore.store import FACT_KEYWORD_FILE, FACTS_FILE, new_generation_dir, publish, write_generation

    real_settings = load_settings()
    settings = real_settings.model_copy(update={"index_dir": workdir / "index", "feedback_db": workdir / "fb.sqlite3",
                                                "chroma_url": None})
    result: dict = {"size": size}
    embeddings = build_embeddings(real_settings)
    embeddings.warm_up()
    parsed = parse_plans(real_settings)
    result["rss_model_mb"] = rss_mb()["VmRSS"]

    began = time.perf_counter()
    records, chunks, facts, vectors, stats = build_corpus(parsed, embeddings, size, seed, noise)
    ids = [c.id for c in chunks] + [f.id for f in facts]
    assert len(set(ids)) == len(ids), "synthetic chunk or fact IDs collide"
    row_of = {x.embed_text: i for i, x in enumerate([*chunks, *facts])}
    result.update({"chunks": len(chunks), "facts": len(facts), "plans": len(records),
                   "synth_s": round(time.perf_counter() - began, 1),
                   "copy_cosine": round(statistics.fmean(stats["cosines"]), 3) if stats["cosines"] else 1.0,
                   "unmatched_chunks": stats["unmatched_chunks"], "unmatched_facts": stats["unmatched_facts"]})

    # The generation through the real store code: Chroma (two collections), the vector
    # files, chunks, facts, records and both keyword indexes.
    lookup = LookupEmbeddings(vectors, row_of, embeddings)
    meta = {"collection": f"bench-{size}x", "embedding": embeddings.signature, "plans": sorted(records)}
    began = time.perf_counter()
    gen = write_generation(new_generation_dir(settings.index_dir), chunks, {"plans": records}, lookup, meta, facts=facts)
    publish(settings.index_dir, gen)
    result["write_s"] = round(time.perf_counter() - began, 1)
    result["disk_mb"] = du_mb(gen.path)
    result["disk_chroma_mb"] = du_mb(gen.path / "chroma")
    for key, name in (("chunk_vectors", VECTORS_FILE), ("fact_vectors", FACT_VECTORS_FILE), ("keyword", KEYWORD_FILE),
                      ("fact_keyword", FACT_KEYWORD_FILE), ("facts_json", FACTS_FILE), ("chunks_json", "chunks.json"),
                      ("records_json", "records.json")):
        result[f"disk_{key}_mb"] = round((gen.path / name).stat().st_size / 1e6, 1)

    # The keyword indexes on their own: what a load costs without the saved ones.
    for label, items in (("chunk", chunks), ("fact", facts)):
        began = time.perf_counter()
        terms = [tokenize(x.embed_text) for x in items]
        result[f"{label}_tokenize_s"] = round(time.perf_counter() - began, 1)
        began = time.perf_counter()
        BM25Index(terms)
        result[f"{label}_bm25_s"] = round(time.perf_counter() - began, 1)
    del lookup, vectors, row_of, chunks, facts, records, terms
    gc.collect()
    result["rss_before_load_mb"] = rss_mb()["VmRSS"]

    # Load as a server does at its first question: snapshot, then the reader over it.
    watch = Stopwatch()
    service_module.load_snapshot = watch.wrap("load", service_module.load_snapshot)
    assistant = Assistant(settings, embeddings)
    began = time.perf_counter()
    snap = assistant.snapshot
    result["load_total_s"] = round(time.perf_counter() - began, 1)
    result["load_s"] = round(watch.now["load"], 1)
    result["reader_s"] = round(result["load_total_s"] - result["load_s"], 1)
    # A server's warm-up builds the fact table's masks before the first question.
    began = time.perf_counter()
    assistant.warm_up()
    result["warm_up_s"] = round(time.perf_counter() - began, 1)
    gc.collect()
    mem = rss_mb()
    result["rss_loaded_mb"] = mem["VmRSS"]
    result["rss_index_mb"] = round(mem["VmRSS"] - result["rss_before_load_mb"], 1)

    rows = [json.loads(line) for p in sorted((ROOT / "tests" / "golden").glob("*.jsonl"))
            for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = random.Random(seed).sample(rows, min(queries, len(rows)))
    embeddings.embed_query = watch.wrap("embed", embeddings.embed_query)
    snap.dense.similarity_search_by_vector_with_relevance_scores = watch.wrap(
        "dense", snap.dense.similarity_search_by_vector_with_relevance_scores)
    snap.keyword.top = watch.wrap("bm25", snap.keyword.top)
    reader_module.score_facts = watch.wrap("score", reader_module.score_facts)

    def timed(call, *args, **kwargs) -> tuple[float, dict, object]:
        embeddings._queries.clear()  # every question pays for its embedding
        watch.start()
        began = time.perf_counter()
        out = call(*args, **kwargs)
        return time.perf_counter() - began, dict(watch.now), out

    # The retriever's view (measure ranking, no answer); the first question warms up.
    retrieve, search, r, hits_expected = [], [], defaultdict(list), 0
    for i, row in enumerate([picked[0], *picked]):
        plan = None if row.get("plan") in (None, "both") else row["plan"]
        elapsed, parts, found = timed(assistant.search, row["question"], plan)
        if i == 0:
            continue
        retrieve.append(elapsed)
        search.append(elapsed - parts.get("embed", 0.0))
        for name in ("embed", "dense", "bm25"):
            r[name].append(parts.get(name, 0.0))
        top = {f"{h.plan}:{h.measure}" for h in found[:5]}
        hits_expected += bool(set(row.get("expected_measures", [])) & top) or not row.get("expected_measures")

    # The whole engine: Assistant.ask (extractive), with its query embedding and fact scoring.
    ask, a, ask_errors, examples = [], defaultdict(list), 0, []
    for i, row in enumerate([picked[0], *picked]):
        plan = None if row.get("plan") in (None, "both") else row["plan"]
        try:
            elapsed, parts, _ = timed(assistant.ask, row["question"], plan=plan)
        except Exception as exc:  # noqa: BLE001 - counted
            ask_errors += 1
            examples.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        if i:
            ask.append(elapsed)
            for name in ("embed", "score"):
                a[name].append(parts.get(name, 0.0))

    # What a fresh fact table and all its masks cost (part of the warm-up above).
    table = reader_module.load_table(snap)
    began = time.perf_counter()
    fresh = FactTable(table.facts, table.vectors)
    result["fact_table_s"] = round(time.perf_counter() - began, 2)
    began = time.perf_counter()
    fresh.prepare()
    result["fact_masks_s"] = round(time.perf_counter() - began, 2)

    result.update({
        "queries": len(retrieve),
        "retrieve_p50_ms": ms(retrieve, 0.5), "retrieve_p95_ms": ms(retrieve, 0.95),
        "search_p50_ms": ms(search, 0.5), "search_p95_ms": ms(search, 0.95),  # without the query embedding
        "embed_p50_ms": ms(r["embed"], 0.5),
        "dense_p50_ms": ms(r["dense"], 0.5), "dense_p95_ms": ms(r["dense"], 0.95),
        "bm25_p50_ms": ms(r["bm25"], 0.5), "bm25_p95_ms": ms(r["bm25"], 0.95),
        "expected_in_top5": f"{hits_expected}/{len(retrieve)}",
        "ask_p50_ms": ms(ask, 0.5), "ask_p95_ms": ms(ask, 0.95), "ask_max_ms": ms(ask, 1.0),
        "ask_embed_p50_ms": ms(a["embed"], 0.5),
        "score_p50_ms": ms(a["score"], 0.5), "score_p95_ms": ms(a["score"], 0.95), "score_max_ms": ms(a["score"], 1.0),
        "ask_errors": ask_errors, "ask_error_examples": sorted(set(examples))[:3],
        "rss_after_queries_mb": rss_mb()["VmRSS"], "rss_peak_mb": rss_mb()["VmHWM"],
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


INDEX_COLUMNS = [
    ("size", lambda r: f"{r['size']}×"), ("chunks", lambda r: r["chunks"]), ("facts", lambda r: r["facts"]),
    ("plans", lambda r: r["plans"]), ("write s", lambda r: r["write_s"]),
    ("tokenize s chunks/facts", lambda r: f"{r['chunk_tokenize_s']}/{r['fact_tokenize_s']}"),
    ("BM25 s chunks/facts", lambda r: f"{r['chunk_bm25_s']}/{r['fact_bm25_s']}"),
    ("disk MB", lambda r: r["disk_mb"]), ("chroma MB", lambda r: r["disk_chroma_mb"]),
    ("vectors MB chunks/facts", lambda r: f"{r['disk_chunk_vectors_mb']}/{r['disk_fact_vectors_mb']}"),
    ("keyword MB chunks/facts", lambda r: f"{r['disk_keyword_mb']}/{r['disk_fact_keyword_mb']}"),
    ("facts.json MB", lambda r: r["disk_facts_json_mb"]),
    ("load s snapshot+reader", lambda r: f"{r['load_s']}+{r['reader_s']}"),
    ("warm-up s", lambda r: f"{r['warm_up_s']}"),
    ("RSS MB", lambda r: r["rss_loaded_mb"]), ("index RSS MB", lambda r: r["rss_index_mb"]),
    ("RSS after queries MB", lambda r: r["rss_after_queries_mb"]), ("peak RSS MB", lambda r: r["rss_peak_mb"]),
]
QUERY_COLUMNS = [
    ("size", lambda r: f"{r['size']}×"),
    ("ask p50/p95 ms", lambda r: f"{r['ask_p50_ms']}/{r['ask_p95_ms']}"), ("ask max ms", lambda r: r["ask_max_ms"]),
    ("ask embed p50 ms", lambda r: r["ask_embed_p50_ms"]),
    ("score_facts p50/p95 ms", lambda r: f"{r['score_p50_ms']}/{r['score_p95_ms']}"),
    ("score_facts max ms", lambda r: r["score_max_ms"]),
    ("fact table/masks s", lambda r: f"{r['fact_table_s']}/{r['fact_masks_s']}"),
    ("retrieve p50/p95 ms", lambda r: f"{r['retrieve_p50_ms']}/{r['retrieve_p95_ms']}"),
    ("embed p50 ms", lambda r: r["embed_p50_ms"]),
    ("search p50/p95 ms", lambda r: f"{r['search_p50_ms']}/{r['search_p95_ms']}"),
    ("dense p50/p95 ms", lambda r: f"{r['dense_p50_ms']}/{r['dense_p95_ms']}"),
    ("BM25 p50/p95 ms", lambda r: f"{r['bm25_p50_ms']}/{r['bm25_p95_ms']}"),
    ("top5 hit", lambda r: r["expected_in_top5"]), ("ask errors", lambda r: r["ask_errors"]),
]


def markdown(rows: list[dict], columns) -> str:
    head = [name for name, _ in columns]
    body = [[str(cell(r)) for _, cell in columns] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(v.rjust(w) for v, w in zip(b, widths, strict=True)) + " |" for b in body]
    return "\n".join(out)


def table(rows: list[dict], embed: dict | None) -> str:
    text = markdown(rows, INDEX_COLUMNS) + "\n\n" + markdown(rows, QUERY_COLUMNS)
    if embed:
        rate = embed["chunks_per_s"]
        est = ", ".join(f"{r['size']}× {r['chunks'] + r['facts']} items ≈ {(r['chunks'] + r['facts']) / rate / 60:.0f} min"
                        for r in rows)
        text += (
            f"\n\nEmbedding (real model, {embed['runtime']} {embed['dtype']}, max_seq_length {embed['max_seq_length']}, "
            f"{embed['cpus']} CPUs, threads {embed['threads']}, {embed['sample']} chunks, load {embed['model_load_s']} s): "
            f"{rate} chunks/s, query {embed['query_embed_p50_ms']} ms."
            f"\nFull embedding of chunks and facts at {rate}/s: {est}."
        )
    largest = max(rows, key=lambda r: r["size"])

    def verdict(ms: float) -> str:
        return "OK" if ms / 1000 <= TARGET_P95_S else "MISSED"

    text += (
        f"\nTarget p95 ≤ {TARGET_P95_S} s at {largest['size']}×: whole ask {largest['ask_p95_ms']} ms → "
        f"{verdict(largest['ask_p95_ms'])}; retrieval with the query embedding {largest['retrieve_p95_ms']} ms → "
        f"{verdict(largest['retrieve_p95_ms'])}."
        f"\nSynthetic vectors: cosine to their source {', '.join(str(r['copy_cosine']) for r in rows)}; copies matched "
        f"by position only: chunks {', '.join(str(r['unmatched_chunks']) for r in rows)}, "
        f"facts {', '.join(str(r['unmatched_facts']) for r in rows)}."
        f"\nLoad average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work slows every number)."
    )
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,100", help="corpus multiples (default 1,10,100)")
    parser.add_argument("--queries", type=int, default=50, help="golden questions per size (default 50)")
    parser.add_argument("--sample", type=int, default=32, help="chunks embedded with the real model (default 32)")
    parser.add_argument("--noise", type=float, default=0.3, help="norm of the noise added to copied vectors (default 0.3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary index folders")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per size (default 3600)")
    parser.add_argument("--threads", type=int, default=0,
                        help="embedding threads (OMP_NUM_THREADS; 0 = the runtime's default, one per core)")
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
        embed = child(["--child-embed", "--sample", str(args.sample), "--seed", str(args.seed)], args.timeout, args.threads)
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
    print(f"Embedding used {args.threads or 'the default number of'} thread(s).")
    if args.json:
        print(json.dumps({"embedding": embed, "sizes": rows}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
