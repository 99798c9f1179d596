"""Streaming an answer: the answer path runs in a worker thread; the LLM backend
pushes the text so far through :func:`emit_text`, and :func:`stream_answer` turns
those pushes into an iterator (``str`` while the text grows, then the final ``Answer``).

The sink travels in a context variable, so the answer path (retrieve → compose →
rewrite) needs no streaming parameter and ``ask()`` stays one plain call.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from assistant.types import Answer

_sink: ContextVar[Callable[[str], None] | None] = ContextVar("planqa_text_sink", default=None)


class StreamClosed(Exception):
    """The reader stopped reading; raised inside the generation to end it early."""


def emit_text(text: str) -> None:
    """Hand the answer text so far to the reader of :func:`stream_answer` (no-op outside one)."""
    sink = _sink.get()
    if sink is not None:
        sink(text)


def stream_answer(answer: Callable[[], Answer]) -> Iterator[str | Answer]:
    """Run ``answer()`` in a worker; yield each newer text so far, then its Answer.

    Exceptions from ``answer()`` (InvalidQuestion, a missing index) are raised here.
    Texts that pile up while the reader is busy are merged: only the newest is yielded.
    """
    updates: queue.Queue[tuple[str, object]] = queue.Queue()
    closed = threading.Event()

    def sink(text: str) -> None:
        if closed.is_set():
            raise StreamClosed
        updates.put(("text", text))

    def work() -> None:
        _sink.set(sink)  # this thread's own context: other questions are unaffected
        try:
            updates.put(("answer", answer()))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, raised there
            updates.put(("error", exc))

    threading.Thread(target=work, name="planqa-answer", daemon=True).start()
    shown = ""
    try:
        while True:
            kind, value = updates.get()
            while kind == "text" and not updates.empty():
                kind, value = updates.get_nowait()
            if kind == "text":
                if value and value != shown:
                    shown = str(value)
                    yield shown
            elif kind == "answer":
                yield value  # type: ignore[misc]
                return
            else:
                raise value  # type: ignore[misc]
    finally:
        closed.set()
