"""Shared fixtures: network blocked, a deterministic fake embedder, real Chroma on tmp dirs."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.settings import Settings, load_settings

LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(autouse=True)
def block_network(monkeypatch):
    """Unit tests never leave the machine; loopback stays open for server tests."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and not host.startswith(LOOPBACK) and self.family != socket.AF_UNIX:
            raise RuntimeError(f"network access blocked in tests: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def no_background_model_load(monkeypatch):
    """`planqa ask` starts opening the real ONNX model in the background; CLI tests
    answer with the fake embedder, so they skip that load (model tests load it themselves)."""
    monkeypatch.setattr("vectorstore.runtime.prefetch", lambda settings: None)


class FakeEmbeddings(DeterministicFakeEmbedding):
    """Deterministic vectors from text hashes; carries the attributes the pipeline reads."""

    signature: str = "fake-64"
    encoded_total: int = 0
    cache_path: Path | None = None

    def embed_documents(self, texts):
        self.encoded_total += len(texts)
        return super().embed_documents(texts)

    def warm_up(self) -> None:
        return None


class BigramEmbeddings(FakeEmbeddings):
    """Deterministic vectors that mean something: hashed character bigrams, L2-normalised,
    so texts sharing words are close (for reader tests that need a sensible dense score)."""

    signature: str = "bigram-256"

    def embed_documents(self, texts):
        self.encoded_total += len(texts)
        return [self._bigrams(t) for t in texts]

    def embed_query(self, text):
        return self._bigrams(text)

    def _bigrams(self, text: str) -> list[float]:
        import hashlib

        import numpy as np

        vec = np.zeros(self.size, dtype=np.float32)
        for i in range(len(text) - 1):
            gram = text[i : i + 2]
            if gram.strip():
                vec[int(hashlib.md5(gram.encode()).hexdigest()[:8], 16) % self.size] += 1.0
        norm = float(np.linalg.norm(vec)) or 1.0
        return (vec / norm).tolist()


@pytest.fixture
def fake_embeddings() -> FakeEmbeddings:
    return FakeEmbeddings(size=64)


def stop_process(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate a server the tests started; kill it if it does not exit in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def serve_in_thread(app) -> Iterator[str]:
    """An ASGI app on a free loopback port (uvicorn in a thread); yields its URL, stops after."""
    import uvicorn

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def make_settings(tmp: Path, **extra) -> Settings:
    return Settings(index_dir=tmp / "index", cache_dir=tmp / "cache", feedback_db=tmp / "fb.sqlite3", **extra)


@pytest.fixture
def tmp_settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory):
    """Both plans ingested once into a real Chroma with fake embeddings."""
    from ingest.pipeline import ingest

    settings = make_settings(tmp_path_factory.mktemp("fake-index"))
    embeddings = BigramEmbeddings(size=256)
    ingest(settings, embeddings=embeddings, progress=False)
    return settings, embeddings


@pytest.fixture(scope="session")
def fake_assistant(fake_index):
    from assistant.service import Assistant

    settings, embeddings = fake_index
    return Assistant(settings, embeddings)


@pytest.fixture(scope="session")
def real_assistant():
    """The real model and the real index (built by `planqa ingest`)."""
    from assistant.service import build_assistant
    from vectorstore.model_files import check_model
    from vectorstore.store import IndexError_, current_generation

    settings = load_settings()
    try:
        current_generation(settings.index_dir)
    except IndexError_ as exc:
        pytest.skip(f"索引がありません: {exc}")
    if settings.embedding_model == "embeddinggemma-300m" and not check_model(settings.model_dir).ok:
        pytest.skip("埋め込みモデルがありません（planqa models install）")
    assistant = build_assistant(settings)
    assistant.warm_up()
    return assistant
