"""The index on disk: immutable generations and an atomic CURRENT pointer.

``planqa ingest`` writes a complete new generation (Chroma collection, chunks,
records) in its own folder, marks it complete, then swaps ``CURRENT`` with
``os.replace``. A reader therefore sees the old or the new index, never a mix,
and an ingest killed midway leaves the previous index as it was.

With ``chroma_url`` set the vectors live in a Chroma server (one collection per
generation, named from its content, so replicas that ingest the same plans
share it); chunks and records stay in the local generation folder. Without it,
the generation also keeps its vectors in chunk order (``vectors.npy``), which
readers search with NumPy instead of opening Chroma (:mod:`vectorstore.dense`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ingest.chunk import Chunk

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

CURRENT = "CURRENT"
META = "meta.json"
KEEP_GENERATIONS = 2
OWNER = ".owner.json"  # host and pid of the ingest writing the folder
STALE_INCOMPLETE_S = 24 * 3600  # unfinished folders of unknown owners are removed after this
REBUILD_HINT = "`planqa ingest` で索引を作り直してください。"


class IndexError_(RuntimeError):
    """Missing or broken index; the message is Japanese and says how to rebuild."""


class MissingIndex(IndexError_):
    pass


class CorruptIndex(IndexError_):
    pass


class ChromaUnavailable(IndexError_):
    """The Chroma server at ``chroma_url`` does not answer (rebuilding would not help)."""


def chroma_client(chroma_url: str | None, path: Path | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if chroma_url:
        url = urlparse(chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "localhost", port=url.port or 8000, ssl=url.scheme == "https", settings=settings
            )
        except Exception as exc:  # chromadb raises ValueError when nothing answers
            raise ChromaUnavailable(
                f"Chroma サーバー（{chroma_url}）に接続できません（{exc}）。"
                "サーバーが動いているか、PLANQA_CHROMA_URL を確認してください。"
            ) from exc
    assert path is not None
    return chromadb.PersistentClient(path=str(path), settings=settings)


def vector_store(client, name: str, embeddings: Embeddings) -> Chroma:
    from langchain_chroma import Chroma

    return Chroma(
        collection_name=name,
        embedding_function=embeddings,
        client=client,
        collection_configuration={"hnsw": {"space": "cosine"}},
    )


@dataclass
class Generation:
    path: Path
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def collection(self) -> str:
        return self.meta["collection"]

    def read_json(self, name: str) -> Any:
        return json.loads((self.path / name).read_text(encoding="utf-8"))

    def chunks(self) -> list[Chunk]:
        return [Chunk(**c) for c in self.read_json("chunks.json")]


def current_generation(index_dir: Path) -> Generation:
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise MissingIndex(f"索引がまだありません（{index_dir}）。{REBUILD_HINT}")
    name = pointer.read_text().strip()
    path = index_dir / name
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorruptIndex(f"索引が壊れています（{path} の {META} を読めません）。{REBUILD_HINT}") from exc
    if not meta.get("complete"):
        raise CorruptIndex(f"索引が書きかけのままです（{path}）。{REBUILD_HINT}")
    for required in ("chunks.json", "records.json"):
        if not (path / required).is_file():
            raise CorruptIndex(f"索引のファイル {required} がありません（{path}）。{REBUILD_HINT}")
    if not meta.get("chroma_url") and not (path / "chroma").is_dir():
        raise CorruptIndex(f"索引のベクトルデータがありません（{path}/chroma）。{REBUILD_HINT}")
    return Generation(path, meta)


def new_generation_dir(index_dir: Path) -> Path:
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = index_dir / f"gen-{stamp}-{os.getpid()}-{time.monotonic_ns() % 100000}"
    path.mkdir()
    (path / OWNER).write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
    return path


def write_generation(
    path: Path,
    chunks: list[Chunk],
    records: dict[str, Any],
    embeddings: Embeddings,
    meta: dict[str, Any],
    chroma_url: str | None = None,
    progress=None,
    reuse: Generation | None = None,
) -> Generation:
    """Fill a generation folder; mark it complete only after everything is written.

    ``reuse``: a complete local generation with the same collection and the same
    chunks in the same order (see :func:`reusable_generation`); its vector files
    are copied instead of written again, so an unchanged re-ingest imports no chromadb."""
    if reuse is not None and not chroma_url:
        return _copy_generation(path, chunks, records, meta, reuse, progress)
    collection = meta["collection"]
    client = chroma_client(chroma_url, None if chroma_url else path / "chroma")
    try:
        store = vector_store(client, collection, embeddings)
        existing = set(store.get(include=[])["ids"]) if chroma_url else set()
        todo = [c for c in chunks if c.id not in existing]
        batch = 64
        for start in range(0, len(todo), batch):
            part = todo[start : start + batch]
            store.add_texts([c.embed_text for c in part], metadatas=[c.metadata() for c in part], ids=[c.id for c in part])
            if progress:
                progress(len(part))
        count = store._collection.count()
        if not chroma_url:  # readers search these with NumPy, without opening Chroma
            _save_dense_vectors(path, store, chunks)
    finally:
        client.close()  # release the Chroma system (SQLite, HNSW) this process opened for the folder
    if count != len(chunks):
        raise CorruptIndex(f"ベクトル件数が一致しません（{count} 件 / 期待 {len(chunks)} 件）。{REBUILD_HINT}")
    _write_json(path / "chunks.json", [c.to_dict() for c in chunks])
    _write_json(path / "records.json", records)
    from vectorstore.keyword import KEYWORD_FILE, BM25Index, tokenize

    BM25Index([tokenize(c.embed_text) for c in chunks]).save(path / KEYWORD_FILE)  # readers load it, no re-tokenizing
    _write_json(path / META, {**meta, "chunks": len(chunks), "chroma_url": chroma_url or "", "complete": True})
    return Generation(path, json.loads((path / META).read_text(encoding="utf-8")))


def reusable_generation(index_dir: Path, meta: dict[str, Any], chunks: list[Chunk]) -> Generation | None:
    """The current local generation when it holds exactly these chunks, in this
    order, embedded the same way (same collection name), with its vector files."""
    from vectorstore.dense import VECTORS_FILE

    try:
        gen = current_generation(index_dir)
        same = gen.collection == meta["collection"] and not gen.meta.get("chroma_url")
        same = same and [c["id"] for c in gen.read_json("chunks.json")] == [c.id for c in chunks]
    except (IndexError_, OSError, ValueError, KeyError, TypeError):
        return None
    if same and (gen.path / "chroma").is_dir() and (gen.path / VECTORS_FILE).is_file():
        return gen
    return None


def _copy_generation(
    path: Path, chunks: list[Chunk], records: dict[str, Any], meta: dict[str, Any], reuse: Generation, progress
) -> Generation:
    from vectorstore.dense import VECTORS_FILE, load_vectors
    from vectorstore.keyword import KEYWORD_FILE, BM25Index, tokenize

    shutil.copytree(reuse.path / "chroma", path / "chroma")
    shutil.copy2(reuse.path / VECTORS_FILE, path / VECTORS_FILE)
    try:
        rows = len(load_vectors(path / VECTORS_FILE))
    except (OSError, ValueError):
        rows = -1
    if rows != len(chunks):
        raise CorruptIndex(f"再利用したベクトルの件数が一致しません（{rows} 件 / 期待 {len(chunks)} 件）。{REBUILD_HINT}")
    if progress:
        progress(len(chunks))
    _write_json(path / "chunks.json", [c.to_dict() for c in chunks])
    _write_json(path / "records.json", records)
    if BM25Index.load(reuse.path / KEYWORD_FILE, len(chunks)) is not None:
        shutil.copy2(reuse.path / KEYWORD_FILE, path / KEYWORD_FILE)
    else:
        BM25Index([tokenize(c.embed_text) for c in chunks]).save(path / KEYWORD_FILE)
    _write_json(path / META, {**meta, "chunks": len(chunks), "chroma_url": "", "complete": True})
    return Generation(path, json.loads((path / META).read_text(encoding="utf-8")))


def _save_dense_vectors(path: Path, store: Chroma, chunks: list[Chunk]) -> None:
    import numpy as np

    from vectorstore.dense import VECTORS_FILE, save_vectors

    got = store.get(include=["embeddings"])
    row = {cid: i for i, cid in enumerate(got["ids"])}
    if len(row) != len(chunks) or any(c.id not in row for c in chunks):
        raise CorruptIndex(f"ベクトルの ID がチャンクと一致しません（{len(row)} 件 / 期待 {len(chunks)} 件）。{REBUILD_HINT}")
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    save_vectors(path / VECTORS_FILE, vectors[[row[c.id] for c in chunks]])


def publish(index_dir: Path, generation: Generation) -> None:
    """Atomically point CURRENT at the generation, then prune old ones."""
    tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    tmp.write_text(generation.name)
    os.replace(tmp, index_dir / CURRENT)
    prune(index_dir, keep={generation.name})


def prune(index_dir: Path, keep: set[str]) -> None:
    """Keep the newest few complete generations (readers may still hold the
    previous one) and remove unfinished folders whose ingest is gone.

    Unfinished folders never count towards :data:`KEEP_GENERATIONS`: a killed
    ingest must not push the previous complete generation out. An unfinished
    folder is kept while its ingest process is alive (same host), or, when the
    owner cannot be checked, until it is :data:`STALE_INCOMPLETE_S` old.
    """
    try:
        keep = keep | {(index_dir / CURRENT).read_text().strip()}
    except OSError:
        pass
    gens = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), key=_mtime, reverse=True)
    complete = [p for p in gens if _is_complete(p)]
    for old in complete[KEEP_GENERATIONS:]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    for old in gens:
        if old not in complete and old.name not in keep and _abandoned(old):
            shutil.rmtree(old, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _is_complete(path: Path) -> bool:
    try:
        return bool(json.loads((path / META).read_text(encoding="utf-8")).get("complete"))
    except (OSError, ValueError, AttributeError):
        return False


def _abandoned(path: Path) -> bool:
    try:
        owner = json.loads((path / OWNER).read_text())
        host, pid = owner["host"], int(owner["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        host, pid = None, 0
    if host == socket.gethostname() and pid > 0:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    newest = max([_mtime(path), *(_mtime(p) for p in path.iterdir())], default=0.0)
    return time.time() - newest > STALE_INCOMPLETE_S


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
