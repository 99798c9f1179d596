#!/usr/bin/env python
"""Load test for ``planqa serve``: N concurrent clients on ``POST /api/ask`` or Gradio's ``/ask``.

Each client runs in its own thread and asks ``--questions`` questions drawn
(fixed seed) from ``tests/golden/*.jsonl`` with their plan: ``--endpoint api``
(default) posts JSON to ``/api/ask`` with one HTTP connection per client;
``--endpoint gradio`` uses a ``gradio_client.Client`` (``api_name="/ask"``). Reported:
latency p50 / p95 / max, throughput, and errors — transport errors (exceptions,
a full queue) and ``{"error": ...}`` answers. Before the load the distinct
questions are asked once, one at a time; under load every answer is compared
with that baseline (refused or not, cited measures), so an engine that answers
differently when busy shows up as "changed under load".

    python scripts/load_test.py --start-server            # starts planqa serve on a free port, stops it after
    python scripts/load_test.py --url http://127.0.0.1:7860 --clients 20 --questions 25
    python scripts/load_test.py --start-server --endpoint gradio

Loopback only: the URL must point at this machine. Every loop is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

# gradio_client sends telemetry unless this is "False" (its analytics_enabled=False alone is not enough).
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


# --- questions ----------------------------------------------------------------

def load_questions(paths: list[Path]) -> list[tuple[str, str | None]]:
    rows = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append((row["question"], row.get("plan")))
    if not rows:
        raise SystemExit(f"質問がありません: {', '.join(map(str, paths))}")
    return rows


def plan_questions(pool: list[tuple[str, str | None]], clients: int, per_client: int, seed: int):
    rng = random.Random(seed)
    return [[rng.choice(pool) for _ in range(per_client)] for _ in range(clients)]


def signature(result) -> tuple:
    """What must not change under load: refused or not, and the cited measures."""
    if not isinstance(result, dict) or "error" in result:
        return ("error",)
    cites = tuple(sorted({(c.get("plan"), c.get("measure")) for c in result.get("citations", [])}, key=str))
    return (bool(result.get("refused")), cites)


# --- the clients -------------------------------------------------------------

@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    answer_errors: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class ApiClient:
    """``POST /api/ask`` over one keep-alive connection; an HTTP error becomes ``{"error": ...}``."""

    def __init__(self, url: str, token: str | None = None):
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url, headers=headers, trust_env=False)

    def ask(self, question: str, plan: str | None, timeout_s: float) -> dict:
        response = self.http.post("/api/ask", json={"question": question, "plan": plan}, timeout=timeout_s)
        if response.status_code != 200:
            try:
                return {"error": f"{response.status_code}: {response.json().get('error')}"}
            except ValueError:
                return {"error": f"{response.status_code}: {response.text[:200]}"}
        return response.json()

    def close(self) -> None:
        self.http.close()


class GradioClient:
    def __init__(self, url: str):
        from gradio_client import Client

        self.client = Client(url, verbose=False, download_files=False, analytics_enabled=False)

    def ask(self, question: str, plan: str | None, timeout_s: float) -> dict:
        return self.client.submit(question, plan, api_name="/ask").result(timeout=timeout_s)

    def close(self) -> None:
        self.client.close()


def make_client(url: str, endpoint: str = "api"):
    return GradioClient(url) if endpoint == "gradio" else ApiClient(url, os.environ.get("PLANQA_API_TOKEN"))


def run_client(url: str, endpoint: str, questions, baseline: dict, outcome: Outcome, start: threading.Barrier,
               timeout_s: float):
    try:
        client = make_client(url, endpoint)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        with outcome.lock:
            outcome.transport_errors.extend([f"connect: {type(exc).__name__}: {exc}"] * len(questions))
        start.wait()
        return
    start.wait()
    for question, plan in questions:
        began = time.perf_counter()
        try:
            result = client.ask(question, plan, timeout_s)
        except Exception as exc:  # noqa: BLE001
            with outcome.lock:
                outcome.transport_errors.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        elapsed = time.perf_counter() - began
        with outcome.lock:
            outcome.latencies.append(elapsed)
            if isinstance(result, dict) and "error" in result:
                outcome.answer_errors.append(str(result["error"])[:200])
            elif isinstance(result, dict) and result.get("refused"):
                outcome.refused += 1
            expected = baseline.get((question, plan))
            if expected is not None and signature(result) != expected:
                outcome.changed.append(f"{question} ({plan}): {expected} → {signature(result)}")
    try:
        client.close()
    except Exception:  # noqa: BLE001
        pass


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run_load(url: str, endpoint: str, clients: int, per_client: int, seed: int, timeout_s: float, check: bool) -> dict:
    pool = load_questions(sorted(GOLDEN.glob("*.jsonl")))
    work = plan_questions(pool, clients, per_client, seed)
    baseline: dict = {}
    baseline_s = 0.0
    if check:
        distinct = sorted({q for part in work for q in part}, key=str)
        client = make_client(url, endpoint)
        began = time.perf_counter()
        for question, plan in distinct:
            try:
                baseline[(question, plan)] = signature(client.ask(question, plan, timeout_s))
            except Exception as exc:  # noqa: BLE001
                print(f"baseline failed for {question!r}: {exc}", file=sys.stderr)
        baseline_s = time.perf_counter() - began
        client.close()
    outcome = Outcome()
    start = threading.Barrier(clients + 1)
    threads = [
        threading.Thread(target=run_client, args=(url, endpoint, part, baseline, outcome, start, timeout_s),
                         daemon=True)
        for part in work
    ]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join(timeout=timeout_s * per_client + 60)
    wall = time.perf_counter() - began
    lat = outcome.latencies
    total = clients * per_client
    return {
        "url": url,
        "endpoint": "/api/ask" if endpoint == "api" else "Gradio /ask",
        "clients": clients,
        "questions_per_client": per_client,
        "requests": total,
        "completed": len(lat),
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(lat) / wall, 2) if wall else 0.0,
        "latency_p50_s": round(percentile(lat, 0.50), 3),
        "latency_p95_s": round(percentile(lat, 0.95), 3),
        "latency_max_s": round(max(lat), 3) if lat else float("nan"),
        "latency_mean_s": round(statistics.fmean(lat), 3) if lat else float("nan"),
        "errors": (total - len(lat)) + len(outcome.answer_errors),  # failed or unfinished + error answers
        "transport_errors": len(outcome.transport_errors),
        "answer_errors": len(outcome.answer_errors),
        "refused": outcome.refused,
        "baseline_questions": len(baseline),
        "baseline_s_per_question": round(baseline_s / len(baseline), 3) if baseline else None,
        "changed_under_load": len(outcome.changed),
        "examples": {
            "transport": sorted(set(outcome.transport_errors))[:3],
            "answer": sorted(set(outcome.answer_errors))[:3],
            "changed": outcome.changed[:3],
        },
    }


# --- the server ----------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(host: str, port: int, path: str = "/api/health") -> bool:
    conn = http.client.HTTPConnection(host, port, timeout=3)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class Server:
    """`planqa serve` on 127.0.0.1:PORT, output in a temp log; stopped by its pid."""

    def __init__(self, port: int, concurrency: int | None, timeout_s: float, threads: int | None = None):
        self.port = port
        self.timeout_s = timeout_s
        self.log_dir = Path(tempfile.mkdtemp(prefix="planqa-load-"))
        self.log_path = self.log_dir / "serve.log"
        planqa = Path(sys.executable).parent / "planqa"
        cmd = [str(planqa)] if planqa.exists() else [sys.executable, "-m", "assistant.cli"]
        env = {**os.environ, "PLANQA_HOST": "127.0.0.1", "PLANQA_PORT": str(port),
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
               "GRADIO_ANALYTICS_ENABLED": "False"}
        if concurrency:
            env["PLANQA_CONCURRENCY"] = str(concurrency)
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)  # torch intra-op threads per request
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen([*cmd, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                                     stdout=self._log, stderr=subprocess.STDOUT, env=env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> float:
        began = time.monotonic()
        while time.monotonic() - began < self.timeout_s:
            if self.proc.poll() is not None:
                raise SystemExit(f"planqa serve が終了しました（rc={self.proc.returncode}）:\n{self.tail()}")
            if http_ok("127.0.0.1", self.port):
                return time.monotonic() - began
            time.sleep(0.5)
        raise SystemExit(f"planqa serve が {self.timeout_s:.0f} 秒で応答しませんでした:\n{self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGINT, 20), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log.close()
        shutil.rmtree(self.log_dir, ignore_errors=True)


# --- main ----------------------------------------------------------------------

def print_report(r: dict) -> None:
    print(f"\nplanqa load test — {r['endpoint']} at {r['url']}")
    print(f"  clients × questions   {r['clients']} × {r['questions_per_client']} = {r['requests']} requests")
    print(f"  completed             {r['completed']} in {r['wall_s']} s")
    print(f"  throughput            {r['throughput_rps']} req/s")
    print(f"  latency p50 / p95     {r['latency_p50_s']} s / {r['latency_p95_s']} s")
    print(f"  latency max (mean)    {r['latency_max_s']} s ({r['latency_mean_s']} s)")
    print(f"  load average (1 min)  {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end")
    print(f"  errors                {r['errors']} (transport {r['transport_errors']}, error answers {r['answer_errors']})")
    print(f"  refusals              {r['refused']}")
    if r["baseline_questions"]:
        print(f"  baseline (1 client)   {r['baseline_questions']} distinct questions, {r['baseline_s_per_question']} s each")
        print(f"  changed under load    {r['changed_under_load']}")
    if r.get("server_ready_s") is not None:
        print(f"  server start          {r['server_ready_s']} s, peak RSS {r.get('server_peak_rss_mb')} MB, "
              f"concurrency {r.get('server_concurrency') or 'default'}, torch threads {r.get('server_threads') or 'default'}")
    for kind, examples in r["examples"].items():
        for ex in examples:
            print(f"    {kind}: {ex}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="running planqa serve (loopback only)")
    parser.add_argument("--endpoint", choices=["api", "gradio"], default="api",
                        help="api: POST /api/ask (default); gradio: Gradio's /ask through gradio_client")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--questions", type=int, default=25, help="questions per client (default 25)")
    parser.add_argument("--start-server", action="store_true", help="start planqa serve on a free port, stop it after")
    parser.add_argument("--server-concurrency", type=int, help="PLANQA_CONCURRENCY for the started server")
    parser.add_argument("--server-threads", type=int, help="OMP_NUM_THREADS (torch threads) for the started server")
    parser.add_argument("--start-timeout", type=float, default=300.0, help="seconds to wait for the server (default 300)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request before it counts as an error")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-check", action="store_true", help="skip the one-client baseline and its comparison")
    parser.add_argument("--json", action="store_true", help="print the result as JSON as well")
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 200 and 1 <= args.questions <= 1000):
        parser.error("--clients は 1〜200、--questions は 1〜1000 にしてください")

    server = None
    url = args.url
    extra: dict = {}
    try:
        if args.start_server:
            server = Server(free_port(), args.server_concurrency, args.start_timeout, args.server_threads)
            print(f"planqa serve を {server.url} で起動しています…", file=sys.stderr)
            extra["server_ready_s"] = round(server.wait_ready(), 1)
            extra["server_concurrency"] = args.server_concurrency
            extra["server_threads"] = args.server_threads
            url = server.url
        host = urlparse(url).hostname or ""
        if host not in LOOPBACK_HOSTS and not host.startswith("127."):
            parser.error(f"ループバック以外には接続しません: {url}")
        result = run_load(url, args.endpoint, args.clients, args.questions, args.seed, args.timeout, not args.no_check)
        if server is not None:
            extra["server_peak_rss_mb"] = server.rss_mb()
        result.update(extra)
    finally:
        if server is not None:
            server.stop()
    print_report(result)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
