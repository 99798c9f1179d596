"""Embeddings behind LangChain's ``Embeddings`` seam, on one of two runtimes.

- ``OnnxEmbeddings``: the default model (EmbeddingGemma-300M) exported to ONNX
  by ``planqa models install``, run by a plain ONNX Runtime session with the
  model's sentencepiece tokenizer. No PyTorch: a question process starts in
  about a second and a query costs a fraction of the PyTorch time.
- ``SentenceTransformerEmbeddings``: PyTorch through sentence-transformers, for
  any other model a user names (and the default one on request).

Both use the model's own prompts (query ``task: search result | query: ``,
document ``title: none | text: ``). Document vectors are cached by model +
content hash in a small SQLite file, so re-ingesting unchanged chunks costs no
model time; query vectors of repeated questions are kept in a small LRU.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from vectorstore.model_files import DEFAULT_MODEL, ModelError, check_model, install_model
from vectorstore.runtime import open_onnx, runtime_for

if TYPE_CHECKING:
    from assistant.settings import Settings

QUERY_PROMPT = "task: search result | query: "
DOCUMENT_PROMPT = "title: none | text: "


def cpu_supports_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_model_path(name: str, model_dir: Path, auto_install: bool = True) -> str:
    """The default model is provisioned offline (and verified); other names pass through."""
    if name != DEFAULT_MODEL:
        return name
    status = check_model(model_dir)
    if status.ok:
        return str(status.path)
    if not auto_install:
        raise ModelError(status.message)
    return str(install_model(model_dir, force=True))


class EmbeddingCache:
    """Content-hash → vector, one table per model signature."""

    def __init__(self, path: Path, signature: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (sig TEXT, hash TEXT, vec BLOB, PRIMARY KEY (sig, hash))")
        self._sig = signature
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT hash, vec FROM vectors WHERE sig=? AND hash IN ({marks})", [self._sig, *part]
                ).fetchall()
                found.update({h: np.frombuffer(v, dtype=np.float32) for h, v in rows})
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(self._sig, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
            )


class CachedEmbeddings(Embeddings):
    """The caches both runtimes share; subclasses implement ``_encode``."""

    query_cache_size = 1024

    def __init__(self, cache_path: Path | None, batch_size: int, progress: bool):
        self.cache_path = cache_path
        self.batch_size = batch_size
        self.progress = progress
        self._cache: EmbeddingCache | None = None
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()
        self.encoded_total = 0  # documents that needed the model (cache misses)
        self.last_cache_hits = 0

    signature: str

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        raise NotImplementedError

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        if self.cache_path is None:
            self.encoded_total += len(texts)
            return self._encode(texts, query=False).tolist()
        if self._cache is None:
            self._cache = EmbeddingCache(self.cache_path, self.signature)
        keys = [EmbeddingCache.key(t) for t in texts]
        found = self._cache.get_many(list(set(keys)))
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
        if missing:
            vecs = self._encode([t for _, t in missing], query=False)
            self.encoded_total += len(missing)
            new = {k: v for (k, _), v in zip(missing, vecs, strict=True)}
            self._cache.put_many(new)
            found.update(new)
        self.last_cache_hits = len(texts) - len(missing)
        return [found[k].tolist() for k in keys]

    def embed_query(self, text: str) -> list[float]:
        """One question's vector; repeated questions come from the LRU, not the model."""
        with self._queries_lock:
            vec = self._queries.get(text)
            if vec is not None:
                self._queries.move_to_end(text)
        if vec is None:
            vec = self._encode([text], query=True)[0]
            with self._queries_lock:
                self._queries[text] = vec
                while len(self._queries) > self.query_cache_size:
                    self._queries.popitem(last=False)
        return vec.tolist()


class OnnxEmbeddings(CachedEmbeddings):
    """The default model on ONNX Runtime, for queries and documents alike."""

    runtime = "onnx"

    def __init__(
        self,
        model_dir: Path | None = None,
        cache_path: Path | None = None,
        max_seq_length: int = 128,
        batch_size: int = 16,
        progress: bool = False,
        threads: int = 0,
        precision: str = "float32",
    ):
        super().__init__(cache_path, batch_size, progress)
        self.model_name = DEFAULT_MODEL
        self.model_dir = model_dir or Path.home() / ".cache" / "planqa" / "models"
        self.max_seq_length = max_seq_length
        self.threads = threads
        self.dtype = precision
        self._encoder = None

    @property
    def signature(self) -> str:
        return f"{self.model_name}|onnx-{self.dtype}|{self.max_seq_length}"

    def _load(self):
        """The process's shared session (verified by hash when first opened)."""
        if self._encoder is None:
            self._encoder = open_onnx(self.model_dir, self.max_seq_length, self.threads, precision=self.dtype)
        return self._encoder

    def prefetch(self) -> None:
        """Start opening the session in the background; errors surface at the first use."""
        if self._encoder is None:
            open_onnx(self.model_dir, self.max_seq_length, self.threads, background=True, precision=self.dtype)

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        prompt = QUERY_PROMPT if query else DOCUMENT_PROMPT
        return self._load().encode([prompt + t for t in texts], self.batch_size, progress=self.progress and not query)

    def warm_up(self) -> None:
        self._load()
        self._encode(["ウォームアップ"], query=True)


class SentenceTransformerEmbeddings(CachedEmbeddings):
    """PyTorch through sentence-transformers. Loads lazily: constructing this object does no work."""

    runtime = "torch"

    def __init__(
        self,
        model_name: str = DEFAULT_MODEL,
        model_dir: Path | None = None,
        cache_path: Path | None = None,
        max_seq_length: int = 256,
        batch_size: int = 16,
        dtype: str = "auto",
        progress: bool = False,
    ):
        super().__init__(cache_path, batch_size, progress)
        self.model_name = model_name
        self.model_dir = model_dir or Path.home() / ".cache" / "planqa" / "models"
        self.max_seq_length = max_seq_length
        self.dtype = ("bfloat16" if cpu_supports_bf16() else "float32") if dtype == "auto" else dtype
        self.query_dtype = "float32" if dtype == "auto" else dtype
        self._models: dict[str, object] = {}
        self._load_lock = threading.Lock()

    @property
    def signature(self) -> str:
        return f"{self.model_name}|{self.dtype}|{self.max_seq_length}"

    def _load(self, dtype: str):
        """One model per dtype: bfloat16 halves batch document time on CPUs that
        support it, while single short queries run faster in float32."""
        with self._load_lock:
            if dtype not in self._models:
                import torch
                from sentence_transformers import SentenceTransformer

                path = resolve_model_path(self.model_name, self.model_dir)
                kwargs = {"torch_dtype": torch.bfloat16} if dtype == "bfloat16" else {}
                model = SentenceTransformer(path, device="cpu", model_kwargs=kwargs)
                model.max_seq_length = self.max_seq_length
                self._models[dtype] = model
        return self._models[dtype]

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        model = self._load(self.query_dtype if query else self.dtype)
        has_prompts = "query" in getattr(model, "prompts", {})
        if query and has_prompts:
            vecs = model.encode_query(texts, batch_size=self.batch_size, normalize_embeddings=True)
        elif has_prompts:
            vecs = model.encode_document(
                texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=self.progress
            )
        else:
            vecs = model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=self.progress and not query
            )
        return np.asarray(vecs, dtype=np.float32)

    def warm_up(self) -> None:
        self._load(self.query_dtype)


def build_embeddings(settings: Settings, progress: bool = False) -> CachedEmbeddings:
    """The configured embeddings; constructing them loads nothing."""
    cache_path = settings.cache_dir / "embeddings.sqlite3"
    if runtime_for(settings) == "onnx":
        return OnnxEmbeddings(
            model_dir=settings.model_dir,
            cache_path=cache_path,
            max_seq_length=settings.embedding_max_seq_length,
            batch_size=settings.embedding_batch_size,
            progress=progress,
            precision=settings.embedding_precision,
        )
    return SentenceTransformerEmbeddings(
        model_name=settings.embedding_model,
        model_dir=settings.model_dir,
        cache_path=cache_path,
        max_seq_length=settings.embedding_max_seq_length,
        batch_size=settings.embedding_batch_size,
        dtype=settings.embedding_dtype,
        progress=progress,
    )
