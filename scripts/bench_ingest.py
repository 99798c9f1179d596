"""Ingest benchmark: both plans, cold (empty embedding cache and index) and unchanged.

Prints seconds for each run and the chunk counts. Uses the configured embedding
model (default EmbeddingGemma-300M) in temporary index and cache folders, so the
real index and cache are not touched.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assistant.settings import load_settings
from ingest.pipeline import build_embeddings, ingest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1, help="unchanged re-ingests to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="planqa-bench-") as tmp:
        settings = load_settings(index_dir=Path(tmp) / "index", cache_dir=Path(tmp) / "cache")
        embeddings = build_embeddings(settings)
        t = time.perf_counter()
        embeddings.embed_query("ウォームアップ")  # model load is reported separately
        embeddings._load(embeddings.dtype)
        load_s = time.perf_counter() - t
        cold = ingest(settings, embeddings=embeddings, progress=False)
        unchanged = [ingest(settings, embeddings=embeddings, progress=False) for _ in range(args.runs)]
    print(f"model load              {load_s:6.1f} s   ({settings.embedding_model}, docs {embeddings.dtype}, "
          f"max_seq_length {settings.embedding_max_seq_length})")
    print(f"cold ingest             {cold.seconds:6.1f} s   {cold.chunks} chunks, {cold.embedded} embedded "
          f"({cold.embedded / max(cold.seconds, 1e-9):.1f} chunks/s)")
    for i, run in enumerate(unchanged, 1):
        print(f"unchanged ingest #{i}     {run.seconds:6.2f} s   {run.embedded} embedded")
    for pid, counts in cold.plans.items():
        print(f"  {pid}: {counts['measures']} measures, {counts['sections']} sections, {counts['chunks']} chunks")
    print(f"ratio unchanged/cold    {unchanged[-1].seconds / cold.seconds:.3f}")


if __name__ == "__main__":
    main()
