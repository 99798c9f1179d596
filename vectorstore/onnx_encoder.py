"""The exported embedding model on a plain ONNX Runtime session, without PyTorch.

Tokenizing uses the model's sentencepiece file (loads in a tenth of a second,
against seconds for the 33 MB ``tokenizer.json``) and gives the Hugging Face
tokenizer's ids: ``<bos>``, the pieces, ``<eos>``, truncated to ``max_length``.
Strings such as ``<bos>`` or ``<pad>`` inside a text are text, never control
tokens, so a question cannot end the sequence early.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

import numpy as np

ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.model"


class SentencePieceTokenizer:
    def __init__(self, path: Path, max_length: int):
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(path))
        self.max_length = max(3, max_length)
        self.bos, self.eos, self.pad = self._sp.bos_id(), self._sp.eos_id(), max(self._sp.pad_id(), 0)

    def ids(self, text: str) -> list[int]:
        pieces = self._sp.encode(text)[: self.max_length - 2]
        return [self.bos, *pieces, self.eos]

    def batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Right-padded ``input_ids`` and ``attention_mask`` (int64), as the model was exported."""
        rows = [self.ids(t) for t in texts]
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        return ids, mask


class OnnxSentenceEncoder:
    """Texts (prompts already prepended) → L2-normalised float32 vectors.

    ``threads`` is ONNX Runtime's intra-op thread count (0: one per core, or
    ``OMP_NUM_THREADS`` when set, as for PyTorch)."""

    def __init__(self, folder: Path, max_length: int, threads: int = 0):
        import os

        import onnxruntime as ort

        threads = threads or int(os.environ.get("OMP_NUM_THREADS") or 0)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # Basic graph optimisations load the 1.2 GB graph in about half the time of
        # the full set, for the same query time on CPU (scripts/bench_answer.py).
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        # Threads wait without spinning: on a shared 2-core machine spinning threads
        # take the CPU from the process (or the concurrent request) doing the work.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        self.tokenizer = SentencePieceTokenizer(folder / TOKENIZER_FILE, max_length)
        self.session = ort.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int = 16, progress: bool = False) -> np.ndarray:
        """Sorted by length into batches (less padding), returned in input order."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[np.ndarray | None] = [None] * len(texts)
        starts = range(0, len(order), max(1, batch_size))
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="埋め込み", unit="batch")
        for start in starts:
            part = order[start : start + batch_size]
            ids, mask = self.tokenizer.batch([texts[i] for i in part])
            (vecs,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            for i, vec in zip(part, vecs, strict=True):
                out[i] = vec
        return np.asarray(out, dtype=np.float32)


_opened: dict[tuple, Future] = {}
_opened_lock = threading.Lock()


def _opening(folder: Path, max_length: int, threads: int) -> tuple[Future, bool]:
    key = (str(folder), max_length, threads)
    with _opened_lock:
        if key in _opened:
            return _opened[key], False
        future: Future = Future()
        _opened[key] = future
    return future, True


def _open_into(future: Future, folder: Path, max_length: int, threads: int, check, warm: bool = False) -> None:
    try:
        if check is not None:
            check()
        encoder = OnnxSentenceEncoder(folder, max_length, threads)
        if warm:
            encoder.encode(["?"])  # the first run's allocations, on a tiny input
        future.set_result(encoder)
    except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the encoder
        with _opened_lock:
            _opened.pop((str(folder), max_length, threads), None)  # a later call tries again
        future.set_exception(exc)


def open_encoder(folder: Path, max_length: int, threads: int = 0, check=None) -> OnnxSentenceEncoder:
    """The process's encoder for this folder and length: opened once, shared by every
    user (server, evaluation), waiting for one already opening in the background.
    ``check`` runs first (it raises when the files are missing or damaged)."""
    future, mine = _opening(folder, max_length, threads)
    if mine:
        _open_into(future, folder, max_length, threads, check)
    return future.result()


def open_in_background(folder: Path, max_length: int, threads: int = 0, check=None) -> None:
    """Start opening the encoder in a thread (a fresh ``planqa ask`` imports the
    answering code and reads the index meanwhile); errors wait for the first use."""
    future, mine = _opening(folder, max_length, threads)
    if mine:
        threading.Thread(
            target=_open_into, args=(future, folder, max_length, threads, check, True), name="planqa-onnx-open",
            daemon=True,
        ).start()
