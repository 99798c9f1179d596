"""Answer benchmark: warm per-question time, and the two embedding routes side by side.

1. Warm answers (the configured route, by default ONNX Runtime) over the golden
   questions: p50/p95/mean of ``ask`` with the query embedding's own time beside
   it, so the ratio shows what the rest of the pipeline costs. The query LRU is
   cleared before each question, so every question pays for its embedding; a
   repeated question (LRU hit) is timed separately.
2. Routes (``--routes``, default on): the PyTorch route and the ONNX route in this
   one process, over the golden and held-out sets against the same index:
   load time, query embedding p50, retrieval recall@1/@5 and pass rate of each.
"""

from __future__ import annotations

import argparse
import statistics
import time

from assistant.evaluate.harness import run_eval
from assistant.evaluate.score import load_golden
from assistant.service import build_assistant
from assistant.settings import PROJECT_ROOT, load_settings
from assistant.types import InvalidQuestion
from vectorstore.embeddings import OnnxEmbeddings, SentenceTransformerEmbeddings, build_embeddings
from vectorstore.onnx_encoder import OnnxSentenceEncoder
from vectorstore.onnx_export import onnx_path


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def golden_items(kind: str) -> list[dict]:
    return load_golden(sorted((PROJECT_ROOT / "tests" / kind).glob("*.jsonl")))


def warm_answers(settings, questions: list[str]) -> None:
    embeddings = build_embeddings(settings)
    assistant = build_assistant(settings, embeddings=embeddings)
    began = time.perf_counter()
    assistant.warm_up()
    warm_s = time.perf_counter() - began
    for q in questions[:5]:
        assistant.ask(q)
    full, embed, repeat = [], [], []
    for q in questions:
        embeddings._queries.clear()
        began = time.perf_counter()
        try:
            assistant.ask(q)
        except InvalidQuestion:
            pass
        full.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        try:
            assistant.ask(q)  # the same question again: its vector comes from the LRU
        except InvalidQuestion:
            pass
        repeat.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        embeddings._encode([q], query=True)
        embed.append((time.perf_counter() - began) * 1000)
    print(f"warm-up (model + index load) {warm_s:.1f} s; {len(questions)} questions; "
          f"route {getattr(embeddings, 'runtime', '?')}")
    print(f"{'':28}{'p50':>9}{'p95':>9}{'mean':>9}")
    for label, values in (("ask (extractive)", full), ("query embedding only", embed),
                          ("ask, repeated question", repeat)):
        print(f"{label:28}{pct(values, .5):7.1f}ms{pct(values, .95):7.1f}ms{statistics.mean(values):7.1f}ms")
    print(f"ratio ask/embedding (p50)   {pct(full, .5) / pct(embed, .5):.2f}")


def compare_routes(settings, sets: dict[str, list[dict]]) -> None:
    max_len, batch = settings.embedding_max_seq_length, settings.embedding_batch_size
    routes = {
        "torch fp32": SentenceTransformerEmbeddings(
            model_dir=settings.model_dir, cache_path=None, max_seq_length=max_len, batch_size=batch, dtype="float32"
        ),
        "onnx fp32": OnnxEmbeddings(settings.model_dir, None, max_len, batch),
        "onnx int8": OnnxEmbeddings(settings.model_dir, None, max_len, batch, precision="int8"),
    }
    rows = []
    for name, embeddings in routes.items():
        began = time.perf_counter()
        if isinstance(embeddings, OnnxEmbeddings):  # a fresh session: the process already shares one
            OnnxSentenceEncoder(onnx_path(settings.model_dir, embeddings.dtype), max_len).encode(["?"])
        else:
            embeddings.warm_up()
            embeddings._encode(["?"], query=True)
        load_s = time.perf_counter() - began
        embeddings.warm_up()
        questions = [i["question"] for items in sets.values() for i in items][:60]
        times = []
        for q in questions:
            began = time.perf_counter()
            embeddings._encode([q], query=True)
            times.append((time.perf_counter() - began) * 1000)
        row = {"route": name, "load_s": load_s, "query_p50": pct(times, .5)}
        assistant = build_assistant(settings, embeddings=embeddings)
        for set_name, items in sets.items():
            overall = run_eval(assistant, items)["metrics"]["overall"]
            row[set_name] = (overall["retrieval_recall_at_1"], overall["retrieval_recall_at_5"], overall["pass_rate"])
        rows.append(row)
    print(f"\n{'route':12}{'load':>8}{'query p50':>11}" + "".join(f"{s + ' r@1/r@5/pass':>28}" for s in sets))
    for row in rows:
        cells = "".join(f"{'':6}{row[s][0]:.3f} / {row[s][1]:.3f} / {row[s][2]:.3f}" for s in sets)
        print(f"{row['route']:12}{row['load_s']:7.1f}s{row['query_p50']:9.1f}ms{cells}")
    worst = max(abs(rows[0][s][k] - rows[1][s][k]) for s in sets for k in (0, 1))
    print(f"largest recall difference between routes: {worst:.3f} ({'within' if worst <= 0.01 else 'OVER'} 0.01)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="only the first N golden questions for the warm timing")
    parser.add_argument("--no-routes", action="store_true", help="skip the PyTorch/ONNX comparison")
    args = parser.parse_args()
    settings = load_settings()
    golden = golden_items("golden")
    warm_answers(settings, [i["question"] for i in golden][: args.limit or None])
    if not args.no_routes:
        compare_routes(settings, {"golden": golden, "held-out": golden_items("heldout")})


if __name__ == "__main__":
    main()
