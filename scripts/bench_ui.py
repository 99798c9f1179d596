"""UI benchmark: what the チャット and 比較 tabs add on top of the engine.

For the golden questions (warm, real index and model) it times, per question,
the engine's answer and then the UI's own work on it — the reply Markdown, the
source chips and the first source card with its KPI chart data — and, for a few
themes, the comparison of both plans. Prints p50/p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import time

from assistant.compare import compare_theme
from assistant.evaluate.score import load_golden
from assistant.service import build_assistant
from assistant.settings import PROJECT_ROOT, load_settings
from ui.render import answer_to_markdown, source_groups
from ui.source_view import lookup_measure, open_source

THEMES = ["窓口", "マイナンバー", "人材育成", "セキュリティ", "子育て", "観光", "防災", "農業"]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def line(name: str, values: list[float]) -> str:
    return (f"{name:<28} n={len(values):<4} p50 {pct(values, 0.5):8.1f} ms  p95 {pct(values, 0.95):8.1f} ms  "
            f"mean {statistics.mean(values):8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=60, help="golden questions to use (0 = all)")
    args = parser.parse_args()
    items = load_golden(sorted((PROJECT_ROOT / "tests" / "golden").glob("*.jsonl")))
    questions = [i["question"] for i in items][: args.limit or None]
    assistant = build_assistant(load_settings())
    assistant.warm_up()
    plans = assistant.plans
    engine, ui, compare = [], [], []
    for question in questions:
        t = time.perf_counter()
        answer = assistant.ask(question)
        t1 = time.perf_counter()
        answer_to_markdown(answer, plans)
        groups = source_groups(answer.citations, plans)
        if groups:
            first = groups[0]
            open_source(lookup_measure(assistant, first.plan, first.measure), plans.get(first.plan), first.citations)
        t2 = time.perf_counter()
        engine.append((t1 - t) * 1000)
        ui.append((t2 - t1) * 1000)
    for theme in THEMES:
        t = time.perf_counter()
        compare_theme(assistant, theme)
        compare.append((time.perf_counter() - t) * 1000)
    print(line("engine answer (ask)", engine))
    print(line("UI render + card + chart", ui))
    print(line("comparison (both plans)", compare))


if __name__ == "__main__":
    main()
