"""Ingest benchmark: document-embedding throughput per route, then cold and unchanged ingests.

1. Texts/s of each document route on a sample of real chunks (after a warm-up
   batch): ONNX Runtime int8 (the default) and fp32, PyTorch fp32 and, with ``--bf16``, PyTorch bf16
   (emulated, hence slow, on CPUs without AVX-512 BF16 / AMX).
2. Both plans ingested with the configured route in temporary index and cache
   folders (the real ones are not touched): cold (empty embedding cache) and
   unchanged re-ingests.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assistant.settings import load_settings
from ingest.chunk import chunk_plan
from ingest.pipeline import ingest, parse_plans
from vectorstore.embeddings import OnnxEmbeddings, SentenceTransformerEmbeddings, build_embeddings, cpu_supports_bf16


def route_throughput(settings, texts: list[str], bf16: bool) -> None:
    max_len, batch = settings.embedding_max_seq_length, settings.embedding_batch_size
    routes = {"onnx int8": lambda: OnnxEmbeddings(settings.model_dir, None, max_len, batch, precision="int8"),
              "onnx fp32": lambda: OnnxEmbeddings(settings.model_dir, None, max_len, batch)}
    routes["torch fp32"] = lambda: SentenceTransformerEmbeddings(
        model_dir=settings.model_dir, cache_path=None, max_seq_length=max_len, batch_size=batch, dtype="float32")
    if bf16:
        routes["torch bf16"] = lambda: SentenceTransformerEmbeddings(
            model_dir=settings.model_dir, cache_path=None, max_seq_length=max_len, batch_size=batch, dtype="bfloat16")
    print(f"document embedding, {len(texts)} chunks, batch {batch}, max_seq_length {max_len}"
          f" (CPU bf16: {'yes' if cpu_supports_bf16() else 'no'})")
    for name, make in routes.items():
        embeddings = make()
        began = time.perf_counter()
        embeddings.embed_documents(texts[:batch])  # load and warm up
        load_s = time.perf_counter() - began
        began = time.perf_counter()
        embeddings.embed_documents(texts)
        seconds = time.perf_counter() - began
        print(f"  {name:12} {len(texts) / seconds:6.1f} texts/s   ({seconds:.1f} s; load + first batch {load_s:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1, help="unchanged re-ingests to time")
    parser.add_argument("--sample", type=int, default=96, help="chunks for the per-route throughput (0: skip)")
    parser.add_argument("--bf16", action="store_true", help="also time PyTorch bfloat16")
    parser.add_argument("--skip-ingest", action="store_true", help="only the per-route throughput")
    args = parser.parse_args()
    settings = load_settings()
    if args.sample:
        chunks = [c for plan in parse_plans(settings) for c in chunk_plan(plan)]
        step = max(1, len(chunks) // args.sample)
        route_throughput(settings, [c.embed_text for c in chunks[::step]][: args.sample], args.bf16)
    if args.skip_ingest:
        return
    with tempfile.TemporaryDirectory(prefix="planqa-bench-") as tmp:
        settings = load_settings(index_dir=Path(tmp) / "index", cache_dir=Path(tmp) / "cache")
        embeddings = build_embeddings(settings)
        began = time.perf_counter()
        embeddings.warm_up()  # model load is reported separately
        load_s = time.perf_counter() - began
        cold = ingest(settings, embeddings=embeddings, progress=False)
        unchanged = [ingest(settings, embeddings=embeddings, progress=False) for _ in range(args.runs)]
    print(f"model load              {load_s:6.1f} s   ({settings.embedding_model}, route {embeddings.runtime} "
          f"{embeddings.dtype}, max_seq_length {settings.embedding_max_seq_length})")
    print(f"cold ingest             {cold.seconds:6.1f} s   {cold.chunks} chunks, {cold.embedded} embedded "
          f"({cold.embedded / max(cold.seconds, 1e-9):.1f} chunks/s overall)")
    for i, run in enumerate(unchanged, 1):
        print(f"unchanged ingest #{i}     {run.seconds:6.2f} s   {run.embedded} embedded")
    for pid, counts in cold.plans.items():
        print(f"  {pid}: {counts['measures']} measures, {counts['sections']} sections, {counts['chunks']} chunks")
    print(f"ratio unchanged/cold    {unchanged[-1].seconds / cold.seconds:.3f}")


if __name__ == "__main__":
    main()
