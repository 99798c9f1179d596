"""Cold start: wall time of ``planqa ask`` from a fresh process, several times.

Each run is a new interpreter (``python -m assistant.cli ask QUESTION``) with the
index and model present, as a user types it in a shell. Prints every run and
min/median; ``--runtime torch`` times the PyTorch route for comparison, and
``--importtime`` prints the slowest imports of one extra run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_once(question: str, env: dict[str, str], extra: list[str]) -> float:
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, *extra, "-m", "assistant.cli", "ask", question], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"planqa ask failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--question", default="公式アプリの2026年度の目標は？")
    parser.add_argument("--runtime", choices=["auto", "onnx", "torch"], default=None, help="PLANQA_EMBEDDING_RUNTIME")
    parser.add_argument("--importtime", action="store_true", help="also list the slowest imports (one extra run)")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if args.runtime:
        env["PLANQA_EMBEDDING_RUNTIME"] = args.runtime
    run_once(args.question, env, [])  # page cache warm, as after any earlier use
    times = []
    for i in range(args.runs):
        times.append(run_once(args.question, env, []))
        print(f"run {i + 1}: {times[-1]:.2f} s", flush=True)
    print(f"planqa ask cold start ({env.get('PLANQA_EMBEDDING_RUNTIME', 'auto')}, {os.cpu_count()} CPUs): "
          f"min {min(times):.2f} s, median {statistics.median(times):.2f} s")
    if args.importtime:
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "assistant.cli", "ask", args.question],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        rows = []
        for line in proc.stderr.splitlines():
            if line.startswith("import time:") and "|" in line:
                _, cumulative, name = line.removeprefix("import time:").split("|")
                if cumulative.strip().isdigit() and not name.startswith("  "):  # top-level imports only
                    rows.append((int(cumulative), name.strip()))
        print("slowest top-level imports (cumulative):")
        for micros, name in sorted(rows, reverse=True)[:12]:
            print(f"  {micros / 1e6:6.2f} s  {name}")


if __name__ == "__main__":
    main()
