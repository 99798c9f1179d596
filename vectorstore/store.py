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
from ingest.facts import Fact

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

CURRENT = "CURRENT"
META = "meta.json"
FACTS_FILE = "facts.json"
FACT_KEYWORD_FILE = "facts-keyword.npz"
FACT_SUFFIX = "-facts"  # the facts' Chroma collection is the chunks' name plus this
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


class OtherEmbedding(IndexError_):
    """The index was embedded with another model or precision than the one configured now."""


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

    @property
    def fact_collection(self) -> str:
        return self.meta["collection"] + FACT_SUFFIX

    def chunks(self) -> list[Chunk]:
        return [Chunk(**c) for c in self.read_json("chunks.json")]

    def facts(self) -> list[Fact]:
        return [Fact.from_dict(f) for f in self.read_json(FACTS_FILE)]


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
    for required in ("chunks.json", "records.json", FACTS_FILE):
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
    facts: list[Fact] | None = None,
) -> Generation:
    """Fill a generation folder; mark it complete only after everything is written.
    Chunks and facts go to two Chroma collections of the same client; a local
    generation also keeps both sets of vectors in item order (``vectors.npy``,
    ``fact-vectors.npy``), which readers search with NumPy instead of opening Chroma.

    ``reuse``: a complete local generation with the same collection and the same
    chunks and facts in the same order (see :func:`reusable_generation`); its vector
    files are copied instead of written again, so an unchanged re-ingest imports no chromadb."""
    facts = facts or []
    if reuse is not None and not chroma_url:
        return _copy_generation(path, chunks, facts, records, meta, reuse, progress)
    collection = meta["collection"]
    client = chroma_client(chroma_url, None if chroma_url else path / "chroma")
    try:
        chunk_store = vector_store(client, collection, embeddings)
        fact_store = vector_store(client, collection + FACT_SUFFIX, embeddings)
        count = _add_all(chunk_store, chunks, bool(chroma_url), progress)
        fact_count = _add_all(fact_store, facts, bool(chroma_url), progress)
        if not chroma_url:  # readers search these with NumPy, without opening Chroma
            from vectorstore.dense import FACT_VECTORS_FILE, VECTORS_FILE

            _save_dense_vectors(path / VECTORS_FILE, chunk_store, chunks)
            _save_dense_vectors(path / FACT_VECTORS_FILE, fact_store, facts)
    finally:
        client.close()  # release the Chroma system (SQLite, HNSW) this process opened for the folder
    if count != len(chunks) or fact_count != len(facts):
        raise CorruptIndex(f"ベクトル件数が一致しません（{count} + {fact_count} 件 / 期待 {len(chunks)} + {len(facts)} 件）。"
                           f"{REBUILD_HINT}")
    _write_json(path / "chunks.json", [c.to_dict() for c in chunks])
    _write_json(path / FACTS_FILE, [f.to_dict() for f in facts])
    _write_json(path / "records.json", records)
    from vectorstore.keyword import KEYWORD_FILE, BM25Index, tokenize

    BM25Index([tokenize(c.embed_text) for c in chunks]).save(path / KEYWORD_FILE)  # readers load it, no re-tokenizing
    BM25Index([tokenize(f.embed_text) for f in facts]).save(path / FACT_KEYWORD_FILE)
    _write_json(path / META, {**meta, "chunks": len(chunks), "facts": len(facts), "chroma_url": chroma_url or "",
                              "complete": True})
    return Generation(path, json.loads((path / META).read_text(encoding="utf-8")))


def _add_all(store: Chroma, items: list, shared_server: bool, progress=None, batch: int = 64) -> int:
    """Add chunks or facts (anything with id, embed_text and metadata()) and return the count."""
    existing = set(store.get(include=[])["ids"]) if shared_server else set()
    todo = [item for item in items if item.id not in existing]
    for start in range(0, len(todo), batch):
        part = todo[start : start + batch]
        store.add_texts([x.embed_text for x in part], metadatas=[x.metadata() for x in part], ids=[x.id for x in part])
        if progress:
            progress(len(part))
    return store._collection.count()

def reusable_generation(index_dir: Path, meta: dict[str, Any], chunks: list[Chunk],
                        facts: list[Fact] | None = None) -> Generation | None:
    """The current local generation when it holds exactly these chunks and facts, in this
    order, embedded the same way (same collection name), with its vector files."""
    from vectorstore.dense import FACT_VECTORS_FILE, VECTORS_FILE

    facts = facts or []
    try:
        gen = current_generation(index_dir)
        same = gen.collection == meta["collection"] and not gen.meta.get("chroma_url")
        same = same and [c["id"] for c in gen.read_json("chunks.json")] == [c.id for c in chunks]
        same = same and [f["id"] for f in gen.read_json(FACTS_FILE)] == [f.id for f in facts]
    except (IndexError_, OSError, ValueError, KeyError, TypeError):
        return None
    files = ((gen.path / "chroma").is_dir() and (gen.path / VECTORS_FILE).is_file()
             and (gen.path / FACT_VECTORS_FILE).is_file())
    return gen if same and files else None


def _copy_generation(
    path: Path, chunks: list[Chunk], facts: list[Fact], records: dict[str, Any], meta: dict[str, Any],
    reuse: Generation, progress,
) -> Generation:
    from vectorstore.dense import FACT_VECTORS_FILE, VECTORS_FILE, load_vectors
    from vectorstore.keyword import KEYWORD_FILE, BM25Index, tokenize

    shutil.copytree(reuse.path / "chroma", path / "chroma")
    for name, items in ((VECTORS_FILE, chunks), (FACT_VECTORS_FILE, facts)):
        shutil.copy2(reuse.path / name, path / name)
        try:
            rows = len(load_vectors(path / name))
        except (OSError, ValueError):
            rows = -1
        if rows != len(items):
            raise CorruptIndex(f"再利用したベクトルの件数が一致しません（{name}: {rows} 件 / 期待 {len(items)} 件）。{REBUILD_HINT}")
    if progress:
        progress(len(chunks) + len(facts))
    _write_json(path / "chunks.json", [c.to_dict() for c in chunks])
    _write_json(path / FACTS_FILE, [f.to_dict() for f in facts])
    _write_json(path / "records.json", records)
    for name, items in ((KEYWORD_FILE, chunks), (FACT_KEYWORD_FILE, facts)):
        if BM25Index.load(reuse.path / name, len(items)) is not None:
            shutil.copy2(reuse.path / name, path / name)
        else:
            BM25Index([tokenize(x.embed_text) for x in items]).save(path / name)
    _write_json(path / META, {**meta, "chunks": len(chunks), "facts": len(facts), "chroma_url": "", "complete": True})
    return Generation(path, json.loads((path / META).read_text(encoding="utf-8")))


def _save_dense_vectors(target: Path, store: Chroma, items: list) -> None:
    import numpy as np

    from vectorstore.dense import save_vectors

    got = store.get(include=["embeddings"])
    row = {cid: i for i, cid in enumerate(got["ids"])}
    if len(row) != len(items) or any(x.id not in row for x in items):
        raise CorruptIndex(f"ベクトルの ID が一致しません（{len(row)} 件 / 期待 {len(items)} 件）。{REBUILD_HINT}")
    vectors = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(row), -1) if row else np.zeros((0, 1), np.float32)
    save_vectors(target, vectors[[row[x.id] for x in items]] if items else vectors)


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
