"""Re-ingest while questions are being answered, and an ingest killed midway.

A reader (a thread in this process, or a separate process like a running
``planqa serve``) asks the same KPI question in a loop while ``ingest()``
publishes new generations whose value alternates 76,000件 ↔ 77,777件. Every
answer must carry exactly one of the two values — never an error, never a mix —
and the reader must pick up each new generation. A second test SIGKILLs an
ingest subprocess while it is writing vectors: the previous generation must
still load and answer, and the next ingest must not prune it away.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.service import Assistant
from ingest.pipeline import ingest
from tests.conftest import FakeEmbeddings, make_settings
from vectorstore.store import META, current_generation

ROOT = Path(__file__).resolve().parent.parent
OITA = "oita-dx-action-plan-2025-2026.txt"
OLD, NEW = "76,000件", "77,777件"
QUESTION = "施策No.3の2026年度の目標は？"
ROUNDS = 3
WAIT_S = 60.0


def _copy_plans(tmp_path: Path):
    data = tmp_path / "plans"
    shutil.copytree(make_settings(tmp_path).data_dir, data)
    return make_settings(tmp_path, data_dir=data), data / OITA


def _set_value(source: Path, value: str) -> None:
    text = source.read_text(encoding="utf-8")
    other = NEW if value == OLD else OLD
    source.write_text(text.replace(other, value), encoding="utf-8")


def _classify(text: str, quotes: list[str]) -> str:
    """OLD or NEW when the answer is consistent; raises on a mix or neither."""
    blob = text + "\n" + "\n".join(quotes)
    found = {v for v in (OLD, NEW) if v in blob}
    assert len(found) == 1, f"answer mixes or lacks the KPI value: {found} in {blob!r}"
    return found.pop()


class ThreadReader:
    """Asks in a loop on its own Assistant; records values and errors."""

    def __init__(self, settings):
        self.assistant = Assistant(settings, FakeEmbeddings(size=64))
        self.values: list[str] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + 600  # bounded even if the test forgets to stop us
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                answer = self.assistant.ask(QUESTION)
                self.values.append(_classify(answer.text, [c.quote for c in answer.citations]))
            except BaseException as exc:  # noqa: B036 - every failure is a finding here
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=WAIT_S)
        assert not self._thread.is_alive(), "reader thread did not stop"


READER_SCRIPT = r"""
import json, sys, time
from pathlib import Path
from assistant.service import Assistant
from tests.conftest import FakeEmbeddings, make_settings
tmp, data, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
assistant = Assistant(make_settings(tmp, data_dir=data), FakeEmbeddings(size=64))
deadline = time.monotonic() + 600
while not stop.exists() and time.monotonic() < deadline:
    try:
        a = assistant.ask(sys.argv[4])
        out = {"text": a.text, "quotes": [c.quote for c in a.citations]}
    except BaseException as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out, ensure_ascii=False), flush=True)
"""


class ProcessReader:
    """The same loop in another process (how `planqa serve` sees a CLI ingest)."""

    def __init__(self, settings, tmp_path: Path):
        self.stop_file = tmp_path / "stop-reader"
        self.out_path = tmp_path / "reader.jsonl"
        self._out = self.out_path.open("w", encoding="utf-8")
        self._proc = subprocess.Popen(
            [sys.executable, "-c", READER_SCRIPT, str(tmp_path), str(settings.data_dir), str(self.stop_file), QUESTION],
            cwd=ROOT, stdout=self._out, stderr=subprocess.PIPE, text=True,
        )
        self.errors: list[str] = []

    def start(self) -> None:
        pass

    @property
    def values(self) -> list[str]:
        values = []
        for line in self.out_path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # the line being written
            if "error" in row:
                self.errors.append(row["error"])
                continue
            values.append(_classify(row["text"], row["quotes"]))
        self.errors = list(dict.fromkeys(self.errors))
        return values

    def stop(self) -> None:
        self.stop_file.touch()
        try:
            _, stderr = self._proc.communicate(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            _, stderr = self._proc.communicate()
        self._out.close()
        assert self._proc.returncode == 0, f"reader process failed: {stderr[-2000:]}"


def _wait_for(reader, value: str, after: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        values = reader.values
        if len(values) > after and values[-1] == value or reader.errors:
            return
        time.sleep(0.05)
    raise AssertionError(f"reader never answered {value} (last: {reader.values[-3:]})")


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_answers_stay_consistent_during_reingest(tmp_path, kind):
    settings, source = _copy_plans(tmp_path)
    embeddings = FakeEmbeddings(size=64)
    ingest(settings, embeddings=embeddings, progress=False)
    reader = ThreadReader(settings) if kind == "thread" else ProcessReader(settings, tmp_path)
    reader.start()
    try:
        _wait_for(reader, OLD, 0)
        published = []
        for round_ in range(ROUNDS):
            value = NEW if round_ % 2 == 0 else OLD
            _set_value(source, value)
            seen = len(reader.values)
            published.append(ingest(settings, embeddings=embeddings, progress=False).generation)
            _wait_for(reader, value, seen)  # the reader picked up the new generation
    finally:
        reader.stop()
    values = reader.values
    assert not reader.errors, reader.errors[:5]
    assert set(values) == {OLD, NEW}
    switches = sum(1 for a, b in zip(values, values[1:], strict=False) if a != b)
    assert switches >= ROUNDS, f"reader saw {switches} switches for {ROUNDS} publishes"
    # Old generations are pruned, the current and the previous one are kept.
    gens = sorted(p.name for p in settings.index_dir.glob("gen-*"))
    assert published[-1] in gens and published[-2] in gens and len(gens) == 2


def test_reader_releases_pruned_chroma_handles(tmp_path):
    """A long-running reader that sees many re-ingests must not keep every
    generation's Chroma system (HNSW index, SQLite handles) open forever."""
    from chromadb.api.shared_system_client import SharedSystemClient

    settings, source = _copy_plans(tmp_path)
    embeddings = FakeEmbeddings(size=64)
    ingest(settings, embeddings=embeddings, progress=False)
    assistant = Assistant(settings, embeddings)
    for round_ in range(ROUNDS):
        _set_value(source, NEW if round_ % 2 == 0 else OLD)
        ingest(settings, embeddings=embeddings, progress=False)
        assistant.ask(QUESTION)
    import gc

    gc.collect()
    ours = [k for k in SharedSystemClient._identifier_to_system if k.startswith(str(settings.index_dir))]
    assert len(ours) <= 2, f"Chroma systems still open for pruned generations: {ours}"


KILL_SCRIPT = r"""
import sys, time
from pathlib import Path
from ingest.pipeline import ingest
from tests.conftest import FakeEmbeddings, make_settings

class Slow(FakeEmbeddings):
    def embed_documents(self, texts):
        print("BATCH", flush=True)
        time.sleep(0.3)
        return super().embed_documents(texts)

tmp, data = Path(sys.argv[1]), Path(sys.argv[2])
ingest(make_settings(tmp, data_dir=data), embeddings=Slow(size=64), progress=False)
print("DONE", flush=True)
"""


def _kill_midway(tmp_path: Path, settings) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(tmp_path), str(settings.data_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        batches = 0
        deadline = time.monotonic() + WAIT_S
        while batches < 2 and time.monotonic() < deadline:  # two batches in: vectors half written
            line = proc.stdout.readline()
            if not line:
                break
            batches += line.startswith("BATCH")
        assert batches == 2, f"ingest subprocess did not start writing: {proc.stderr.read()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=WAIT_S)
    assert proc.returncode == -signal.SIGKILL


def test_killed_ingest_subprocess_keeps_previous_generation(tmp_path):
    settings, source = _copy_plans(tmp_path)
    embeddings = FakeEmbeddings(size=64)
    before = ingest(settings, embeddings=embeddings, progress=False).generation
    _set_value(source, NEW)
    _kill_midway(tmp_path, settings)

    half = [p for p in settings.index_dir.glob("gen-*") if p.name != before]
    assert len(half) == 1 and not (half[0] / META).exists(), "the killed ingest left no half-written generation"
    assert current_generation(settings.index_dir).name == before
    answer = Assistant(settings, embeddings).ask(QUESTION)
    assert OLD in answer.text and answer.citations[0].measure == "3"

    # The next ingest publishes, removes the abandoned half-written folder, and
    # keeps the previous complete generation (readers may still be on it).
    after = ingest(settings, embeddings=embeddings, progress=False).generation
    names = {p.name for p in settings.index_dir.glob("gen-*")}
    assert names == {before, after}, names
    assert NEW in Assistant(settings, embeddings).ask(QUESTION).text


def test_in_progress_generation_of_a_live_ingest_is_not_pruned(tmp_path):
    """A concurrent ingest's unfinished folder (its process is alive) survives another publish."""
    from vectorstore.store import new_generation_dir

    settings, _ = _copy_plans(tmp_path)
    embeddings = FakeEmbeddings(size=64)
    ingest(settings, embeddings=embeddings, progress=False)
    in_progress = new_generation_dir(settings.index_dir)  # owned by this (live) process
    for _ in range(3):
        ingest(settings, embeddings=embeddings, progress=False)
    assert in_progress.is_dir()
    complete = [p for p in settings.index_dir.glob("gen-*") if (p / META).exists()]
    assert len(complete) == 2
