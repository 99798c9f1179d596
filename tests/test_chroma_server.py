"""Vectors in a Chroma server (PLANQA_CHROMA_URL), as several replicas would share it.

Starts the ``chroma`` CLI shipped with the chromadb package on a free loopback
port with a temporary data folder, ingests with fake embeddings, answers with
a citation, re-ingests without duplicates, lets a second "replica" (its own
index_dir) reuse the same collection, and stops the server. Loopback only.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.service import Assistant
from ingest.pipeline import ingest
from tests.conftest import FakeEmbeddings, make_settings, stop_process
from vectorstore.store import ChromaUnavailable, chroma_client, current_generation

pytestmark = pytest.mark.e2e

QUESTION = "施策No.3の2026年度の目標は？"
START_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _chroma_cli() -> Path | None:
    for candidate in (Path(sys.executable).parent / "chroma", shutil.which("chroma")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def _heartbeat(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)  # no proxy lookup, unlike urllib
    try:
        conn.request("GET", "/api/v2/heartbeat")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory) -> Iterator[str]:
    cli = _chroma_cli()
    if cli is None:
        pytest.skip(f"chroma CLI がありません（{Path(sys.executable).parent}/chroma も PATH にもない）")
    data = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = (data.parent / f"chroma-{port}.log").open("w")
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [str(cli), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _heartbeat(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = Path(log.name).read_text(errors="replace")[-2000:]
                pytest.skip(f"chroma サーバーが起動しませんでした（rc={proc.poll()}）: {tail}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, 20)
        log.close()


def _collections(url: str) -> dict[str, int]:
    client = chroma_client(url, None)
    try:
        return {c.name: c.count() for c in client.list_collections()}
    finally:
        client.close()


def _copy_plans(tmp_path: Path, url: str, name: str = "replica-a"):
    data = tmp_path / "plans"
    if not data.exists():
        shutil.copytree(make_settings(tmp_path).data_dir, data)
    return make_settings(tmp_path / name, data_dir=data, chroma_url=url)


def test_ingest_ask_reingest_on_server(chroma_server, tmp_path):
    settings = _copy_plans(tmp_path, chroma_server)
    embeddings = FakeEmbeddings(size=64)
    first = ingest(settings, embeddings=embeddings, progress=False)
    gen = current_generation(settings.index_dir)
    assert gen.meta["chroma_url"] == chroma_server
    assert not (gen.path / "chroma").exists()  # vectors live on the server only
    assert _collections(chroma_server)[gen.collection] == first.chunks

    assistant = Assistant(settings, embeddings)
    answer = assistant.ask(QUESTION)
    assert not answer.refused and "76,000件" in answer.text
    cited = [(c.plan, c.measure, c.field) for c in answer.citations]
    assert cited[0] == ("oita", "3", "kpi") and {c[:2] for c in cited} == {("oita", "3")}  # support: the same measure

    # Same plans again: same collection, nothing re-embedded, no duplicates.
    before = embeddings.encoded_total
    second = ingest(settings, embeddings=embeddings, progress=False)
    assert second.generation != first.generation
    assert current_generation(settings.index_dir).collection == gen.collection
    assert embeddings.encoded_total == before
    assert _collections(chroma_server)[gen.collection] == first.chunks == second.chunks
    snap = assistant.snapshot
    ids = snap.dense.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == len(snap.chunks)

    # A changed plan gets its own collection; the reader picks it up.
    source = settings.data_dir / "oita-dx-action-plan-2025-2026.txt"
    source.write_text(source.read_text(encoding="utf-8").replace("76,000件", "77,777件"), encoding="utf-8")
    third = ingest(settings, embeddings=embeddings, progress=False)
    new_gen = current_generation(settings.index_dir)
    assert new_gen.collection != gen.collection
    assert _collections(chroma_server)[new_gen.collection] == third.chunks
    answer = assistant.ask(QUESTION)
    assert "77,777件" in answer.text and "76,000件" not in answer.text
    assert answer.citations[0].measure == "3"


def test_second_replica_shares_the_collection(chroma_server, tmp_path):
    """Replicas with their own index_dir that ingest the same plans reuse one collection."""
    a = _copy_plans(tmp_path, chroma_server, "replica-a")
    b = _copy_plans(tmp_path, chroma_server, "replica-b")
    emb_a, emb_b = FakeEmbeddings(size=64), FakeEmbeddings(size=64)
    ingest(a, embeddings=emb_a, progress=False)
    report_b = ingest(b, embeddings=emb_b, progress=False)
    gen_a, gen_b = current_generation(a.index_dir), current_generation(b.index_dir)
    assert gen_a.collection == gen_b.collection
    assert emb_b.encoded_total == 0  # every vector was already on the server
    assert _collections(chroma_server)[gen_b.collection] == report_b.chunks
    for settings, emb in ((a, emb_a), (b, emb_b)):
        answer = Assistant(settings, emb).ask(QUESTION)
        assert answer.citations[0].plan == "oita" and answer.citations[0].measure == "3"


def test_replica_reads_index_with_url_from_settings(chroma_server, tmp_path):
    """The URL in PLANQA_CHROMA_URL wins over the one recorded at ingest (the server moved)."""
    settings = _copy_plans(tmp_path, chroma_server)
    ingest(settings, embeddings=FakeEmbeddings(size=64), progress=False)
    gen = current_generation(settings.index_dir)
    meta = {**gen.meta, "chroma_url": "http://127.0.0.1:9"}  # where it used to be
    (gen.path / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    answer = Assistant(settings, FakeEmbeddings(size=64)).ask(QUESTION)
    assert answer.citations[0].measure == "3"


def test_unreachable_server_message(tmp_path):
    port = _free_port()  # nothing listens there
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ChromaUnavailable, match="PLANQA_CHROMA_URL"):
        chroma_client(url, None)
    settings = make_settings(tmp_path, chroma_url=url)
    with pytest.raises(ChromaUnavailable, match=url):
        ingest(settings, embeddings=FakeEmbeddings(size=64), progress=False)
