"""👍/👎 feedback on answers, kept in a small SQLite file (``settings.feedback_db``).

Only what the user typed (question, optional comment), the answer shown and the
rating are stored, with a UTC timestamp — no IP addresses, user agents or
session ids. The file and its folder are created on the first save.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MAX_COMMENT_CHARS = 2000
COLUMNS = ["id", "created_at", "rating", "question", "answer", "citations", "comment"]
CSV_HEADERS = ["ID", "日時(UTC)", "評価", "質問", "回答", "根拠(JSON)", "コメント"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL DEFAULT ''
)
"""


def _csv_safe(value: object) -> object:
    """Defuse spreadsheet formulas in user-typed text (=, +, -, @ at the start)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class FeedbackStore:
    """SQLite feedback store; one short-lived connection per call (safe across threads)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        conn.execute(_SCHEMA)
        return conn

    def save(
        self, question: str, answer_text: str, citations_json: str, rating: int, comment: str = ""
    ) -> int:
        """Store one rating (+1 or -1); returns the new row id."""
        if rating not in (1, -1):
            raise ValueError("評価は +1（👍）か -1（👎）で指定してください。")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        row = (now, rating, question, answer_text, citations_json or "[]", (comment or "").strip()[:MAX_COMMENT_CHARS])
        with self._lock, self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO feedback (created_at, rating, question, answer, citations, comment)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
            new_id = int(cur.lastrowid or 0)
        conn.close()
        return new_id

    def list_recent(self, n: int = 50) -> list[dict[str, Any]]:
        """The newest ``n`` entries, newest first ([] before the first save)."""
        if not self.path.is_file():
            return []
        conn = self._connect()
        try:
            rows = conn.execute(
                f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id DESC LIMIT ?", (max(0, int(n)),)
            ).fetchall()
        finally:
            conn.close()
        return [dict(zip(COLUMNS, r, strict=True)) for r in rows]

    def export_csv(self, path: str | Path) -> Path:
        """Write every entry (oldest first) as UTF-8 CSV with BOM (opens in Excel)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        rows: list[tuple[Any, ...]] = []
        if self.path.is_file():
            conn = self._connect()
            try:
                rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id").fetchall()
            finally:
                conn.close()
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_HEADERS)
            for r in rows:
                writer.writerow([_csv_safe(v) for v in r])
        return out
