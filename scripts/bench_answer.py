"""Answer benchmark: warm per-question time of the extractive backend on the golden questions.

Reports p50/p95/mean per question for the full pipeline and, in the same process,
for the query embedding alone (the part the model dominates), so the ratio shows
what the rest of the pipeline costs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from assistant.evaluate.score import load_golden
from assistant.service import build_assistant
from assistant.settings import PROJECT_ROOT, load_settings
from assistant.types import InvalidQuestion


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    args = parser.parse_args()
    items = load_golden(sorted((PROJECT_ROOT / "tests" / "golden").glob("*.jsonl")))
    questions = [i["question"] for i in items][: args.limit or None]
    assistant = build_assistant(load_settings())
    t = time.perf_counter()
    assistant.warm_up()
    warm_s = time.perf_counter() - t
    for q in questions[:5]:
        assistant.ask(q)
    full, embed = [], []
    for q in questions:
        t = time.perf_counter()
        try:
            assistant.ask(q)
        except InvalidQuestion:
            pass
        full.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        assistant.embeddings.embed_query(q)
        embed.append((time.perf_counter() - t) * 1000)
    print(f"warm-up (model + index load) {warm_s:.1f} s; {len(questions)} questions")
    print(f"{'':24}{'p50':>9}{'p95':>9}{'mean':>9}")
    print(f"{'ask (extractive)':24}{pct(full, .5):8.1f}ms{pct(full, .95):7.1f}ms{statistics.mean(full):7.1f}ms")
    print(f"{'query embedding only':24}{pct(embed, .5):8.1f}ms{pct(embed, .95):7.1f}ms{statistics.mean(embed):7.1f}ms")
    print(f"ratio ask/embedding (mean)  {statistics.mean(full) / statistics.mean(embed):.2f}")


if __name__ == "__main__":
    main()
