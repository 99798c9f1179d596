"""What the HTTP API's routes share: the assistant, a concurrency gate and the
server-side conversations (bounded LRU), plus the one error type they raise."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from assistant.conversation import Conversation
from assistant.settings import Settings

BUSY = "ただいま混み合っています。しばらくしてからもう一度お試しください。"


class ApiError(Exception):
    """An HTTP error with a Japanese, user-facing message."""

    def __init__(self, status: int, message: str, code: str = "invalid_request"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class Gate:
    """At most ``limit`` questions answered at once (CPU-bound work), at most
    ``max_waiting`` waiting; beyond that, or after ``wait_s``, a 503."""

    def __init__(self, limit: int, max_waiting: int = 100, wait_s: float = 120.0):
        self._slots = threading.BoundedSemaphore(max(1, limit))
        self._lock = threading.Lock()
        self._waiting = 0
        self.max_waiting = max_waiting
        self.wait_s = wait_s

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            if self._waiting >= self.max_waiting:
                raise ApiError(503, BUSY, "busy")
            self._waiting += 1
        try:
            acquired = self._slots.acquire(timeout=self.wait_s)
        finally:
            with self._lock:
                self._waiting -= 1
        if not acquired:
            raise ApiError(503, BUSY, "busy")
        try:
            yield
        finally:
            self._slots.release()


class ConversationStore:
    """Conversations by id for follow-up questions; the least recently used go first."""

    def __init__(self, max_size: int = 1000):
        self.max_size = max_size
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conversation_id: str | None) -> tuple[str, Conversation]:
        """The conversation with this id (a new one if unknown or expired); a new id when None."""
        with self._lock:
            cid = conversation_id or secrets.token_urlsafe(12)
            conversation = self._items.pop(cid, None) or Conversation()
            self._items[cid] = conversation
            while len(self._items) > self.max_size:
                self._items.popitem(last=False)
            return cid, conversation

    def __len__(self) -> int:
        return len(self._items)


def environment_errors() -> tuple[type[Exception], ...]:
    """Index or model missing or broken; their Japanese messages say how to fix it (503)."""
    from vectorstore.model_files import ModelError
    from vectorstore.store import IndexError_

    return IndexError_, ModelError


@dataclass
class ApiContext:
    assistant: object  # assistant.service.Assistant (or a stand-in with the same methods)
    settings: Settings
    gate: Gate = field(default_factory=lambda: Gate(4))
    conversations: ConversationStore = field(default_factory=ConversationStore)

    @property
    def backend(self) -> str:
        return getattr(getattr(self.assistant, "backend", None), "name", None) or "extractive"
