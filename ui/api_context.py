"""What the HTTP API's routes share: the assistant, a concurrency gate and the
server-side conversations (bounded LRU), plus the one error type they raise."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TypeVar

from assistant.conversation import Conversation
from assistant.settings import Settings

T = TypeVar("T")
BUSY = "ただいま混み合っています。しばらくしてからもう一度お試しください。"


class ApiError(Exception):
    """An HTTP error with a Japanese, user-facing message."""

    def __init__(self, status: int, message: str, code: str = "invalid_request"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class Gate:
    """Answers on ``limit`` fixed worker threads (the work is CPU-bound; fixed threads
    also keep memory flat), at most ``max_waiting`` waiting; beyond that, or after
    ``wait_s``, a 503 with a Japanese message."""

    def __init__(self, limit: int, max_waiting: int = 100, wait_s: float = 120.0):
        self.limit = max(1, limit)
        self._pool = ThreadPoolExecutor(max_workers=self.limit, thread_name_prefix="planqa-api")
        self._lock = threading.Lock()
        self._pending = 0
        self.max_waiting = max_waiting
        self.wait_s = wait_s

    def run(self, work: Callable[[], T]) -> T:
        with self._lock:
            if self._pending >= self.limit + self.max_waiting:
                raise ApiError(503, BUSY, "busy")
            self._pending += 1
        try:
            future = self._pool.submit(work)
            try:
                return future.result(timeout=self.wait_s)
            except FutureTimeout:
                future.cancel()
                raise ApiError(503, BUSY, "busy") from None
        finally:
            with self._lock:
                self._pending -= 1


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
