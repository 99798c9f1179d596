"""SQLite feedback store."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from ui.feedback import CSV_HEADERS, FeedbackStore


def test_created_lazily(tmp_path) -> None:
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    assert store.list_recent() == []
    assert not store.path.exists()
    store.save("質問", "回答", "[]", 1)
    assert store.path.is_file()


def test_round_trip_newest_first(tmp_path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    cites = json.dumps([{"plan": "oita", "measure": "3"}])
    first = store.save("公式アプリの目標は？", "76,000件です。", cites, 1, "  助かりました ")
    second = store.save("橋は？", "わかりません", "[]", -1)
    assert second > first
    recent = store.list_recent(10)
    assert [r["question"] for r in recent] == ["橋は？", "公式アプリの目標は？"]
    assert recent[1]["rating"] == 1 and recent[1]["comment"] == "助かりました"
    assert json.loads(recent[1]["citations"]) == [{"plan": "oita", "measure": "3"}]
    assert recent[0]["created_at"].endswith("+00:00")
    assert len(store.list_recent(1)) == 1


def test_no_personal_columns(tmp_path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.save("q", "a", "[]", 1)
    with sqlite3.connect(store.path) as conn:
        cols = {row[1] for row in conn.execute("PRAGMA table_info(feedback)")}
    assert cols == {"id", "created_at", "rating", "question", "answer", "citations", "comment"}


def test_rating_must_be_plus_or_minus_one(tmp_path) -> None:
    with pytest.raises(ValueError):
        FeedbackStore(tmp_path / "fb.sqlite3").save("q", "a", "[]", 5)


def test_export_csv(tmp_path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.save("公式アプリの目標は？", "76,000件です。", "[]", 1, "=HYPERLINK(\"x\")")
    store.save("橋は？", "回答", "[]", -1)
    out = store.export_csv(tmp_path / "out" / "feedback.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == CSV_HEADERS
    assert rows[1][3] == "公式アプリの目標は？" and rows[1][2] == "1"
    assert rows[1][6] == "'=HYPERLINK(\"x\")"  # formula defused
    assert rows[2][2] == "-1"


def test_export_empty(tmp_path) -> None:
    out = FeedbackStore(tmp_path / "none.sqlite3").export_csv(tmp_path / "e.csv")
    assert out.read_text(encoding="utf-8-sig").strip() == ",".join(CSV_HEADERS)
