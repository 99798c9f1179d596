"""Gradio app wiring and handlers, with a fake assistant (no server, no browser)."""

from __future__ import annotations

import csv
import sys
import types

import gradio as gr
import pytest
from test_ui_fakes import FakeAssistant

from assistant.conversation import Conversation
from assistant.settings import Settings
from assistant.types import InvalidQuestion
from ui.api import make_ask_api
from ui.app import build_app, launch_options
from ui.chat import EMPTY_QUESTION, INTERNAL_ERROR, NOTHING_TO_EXPORT, ChatController, resolve_plan
from ui.feedback import FeedbackStore
from ui.source_view import CARD_HINT
from ui.tabs import EVAL_UNAVAILABLE, LOGIN_REQUIRED, Evaluator, FeedbackView, KpiBrowser, check_login, parse_auth


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(feedback_db=tmp_path / "fb" / "feedback.sqlite3", auth=None, concurrency=3)


@pytest.fixture
def chat(tmp_path) -> ChatController:
    return ChatController(FakeAssistant(), FeedbackStore(tmp_path / "fb.sqlite3"), stream_delay=0)


def _run(gen):
    """Every update the handler yields, with the chat history as it was at that moment."""
    return [(step[0], list(step[1]), *step[2:]) for step in gen]


def test_build_app_without_launch(settings) -> None:
    app = build_app(FakeAssistant(), settings)
    assert isinstance(app, gr.Blocks)
    endpoints = app.get_api_info()["named_endpoints"]
    assert list(endpoints) == ["/ask"]  # every UI handler is private
    assert [p["parameter_name"] for p in endpoints["/ask"]["parameters"]] == ["question", "plan"]
    assert app._queue.default_concurrency_limit == 3
    assert not settings.feedback_db.exists()  # created lazily


def test_build_app_with_auth(settings) -> None:
    settings.auth = "admin:secret"
    assert isinstance(build_app(FakeAssistant(), settings), gr.Blocks)


def test_launch_options_default_local(monkeypatch, tmp_path) -> None:
    for name in ("PLANQA_HOST", "PLANQA_PORT"):
        monkeypatch.delenv(name, raising=False)
    opts = launch_options(Settings(feedback_db=tmp_path / "fb.sqlite3"))
    assert opts["server_name"] == "127.0.0.1" and opts["server_port"] == 7860
    assert opts["show_error"] is False


def test_ask_api_valid_and_invalid() -> None:
    ask = make_ask_api(FakeAssistant())
    data = ask("公式アプリの2026年度の目標は？", "oita")
    assert "error" not in data
    assert data["citations"][0]["plan"] == "oita" and data["citations"][0]["measure"] == "3"
    assert data["citations"][0]["label"] == "大分市 No.3 公式アプリの機能拡充"
    assert ask("", None) == {"error": EMPTY_QUESTION}
    assert ask("あ" * 600, None) == {"error": "質問が長すぎます（500文字まで）。"}
    assert "error" in ask("質問", "東京都") and "oita" in ask("質問", "東京都")["error"]
    assert ask("故障して", None) == {"error": INTERNAL_ERROR}  # no traceback, no internals
    assert "error" not in ask("延岡市の重点方針2のKPIは？", "延岡市")


def test_resolve_plan() -> None:
    plans = FakeAssistant().plans
    assert resolve_plan(plans, None) is None
    assert resolve_plan(plans, "all") is None and resolve_plan(plans, "両方") is None
    assert resolve_plan(plans, "oita") == "oita" and resolve_plan(plans, "延岡市") == "nobeoka"
    with pytest.raises(InvalidQuestion):
        resolve_plan(plans, "nowhere")


def test_chat_streams_and_keeps_conversation(chat) -> None:
    steps = _run(chat.respond("公式アプリの2026年度の目標は？", "oita", [], None, None, []))
    assert len(steps) > 3  # placeholder, growing partial text, final
    partials = [s[1][-1]["content"] for s in steps[1:-1]]
    assert all(len(a) <= len(b) for a, b in zip(partials, partials[1:], strict=False))
    assert steps[0][0] == ""  # the textbox is cleared once, then left alone while streaming
    assert all(s[0] == {"__type__": "update"} for s in steps[1:])
    textbox, history, conversation, last, transcript, chips, card, indicator, chart, series = steps[-1]
    assert history[0] == {"role": "user", "content": "公式アプリの2026年度の目標は？"}
    assert history[-1]["content"].startswith("**「公式アプリの2026年度の目標は？」について：大分市 No.3")
    assert isinstance(conversation, Conversation) and len(conversation.turns) == 1
    assert transcript == [last]
    assert chips["choices"] == [("大分市 No.3 公式アプリの機能拡充｜KPI", "0")] and chips["visible"]
    assert chips["value"] == "0"  # the first source opens with the answer
    assert "大分市 No.3 公式アプリの機能拡充" in card and chart["visible"] is True
    assert chart["value"]["値"].tolist() == [52187.0, 68000.0, 76000.0]
    # a follow-up reuses the same conversation
    steps = _run(chat.respond("それの2025年度は？", "all", history, conversation, last, transcript))
    assert len(steps[-1][2].turns) == 2 and len(steps[-1][4]) == 2
    assert chat.assistant.calls[-1] == ("それの2025年度は？", None)


def test_chat_uses_the_engines_stream(tmp_path) -> None:
    assistant = FakeAssistant()
    seen: list[tuple[str, str | None]] = []

    def stream(question, plan=None, conversation=None):
        seen.append((question, plan))
        yield "公式アプリの"
        yield "公式アプリの目標は76,000件です。"
        yield assistant.ask(question, plan=plan, conversation=conversation)

    assistant.stream = stream
    chat = ChatController(assistant, FeedbackStore(tmp_path / "fb.sqlite3"), stream_delay=0)
    steps = _run(chat.respond("公式アプリの2026年度の目標は？", "oita", [], None, None, []))
    assert seen == [("公式アプリの2026年度の目標は？", "oita")]
    assert [s[1][-1]["content"] for s in steps[1:3]] == ["公式アプリの ▌", "公式アプリの目標は76,000件です。 ▌"]
    assert len(steps) == 4  # placeholder, two streamed texts, final (no simulated reveal)
    assert "76,000件" in steps[-1][1][-1]["content"] and steps[-1][3].citations


def test_chat_escapes_and_reports_bad_input(chat) -> None:
    final = _run(chat.respond("<script>alert(1)</script>", "all", [], None, None, []))[-1]
    assert all("<script>" not in m["content"] for m in final[1])
    assert "&lt;script&gt;" in final[1][0]["content"]
    attack = _run(chat.respond("<img src=x onerror=alert(1)>の目標は？", "all", [], None, None, []))
    for step in attack:
        for message in step[1]:
            assert "<img" not in message["content"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in attack[-1][1][-1]["content"]
    empty = _run(chat.respond("   ", "all", [], None, None, []))[-1]
    assert EMPTY_QUESTION in empty[1][-1]["content"]
    long = _run(chat.respond("あ" * 600, "all", [], None, None, []))[-1]
    assert "長すぎます" in long[1][-1]["content"]
    broken = _run(chat.respond("故障して", "all", [], None, None, []))[-1]
    assert INTERNAL_ERROR in broken[1][-1]["content"] and "secret" not in broken[1][-1]["content"]
    assert broken[4] == []  # failed questions are not exported


def test_show_source_card(chat) -> None:
    last = _run(chat.respond("公式アプリの2026年度の目標は？", "all", [], None, None, []))[-1][3]
    card, indicator, chart, series = chat.show_source("0", last)
    assert "大分市 No.3 公式アプリの機能拡充" in card
    assert "<mark>" in card and "kpi-table" in card
    assert [p.value for p in series[0].points] == [52187.0, 68000.0, 76000.0]
    assert chat.show_source(None, last)[0] == CARD_HINT
    assert chat.show_source("7", last)[0] == CARD_HINT
    assert chat.show_source("0", None)[0] == CARD_HINT


def test_export_markdown(chat) -> None:
    assert chat.export([]) == ({"__type__": "update", "value": None, "visible": False}, NOTHING_TO_EXPORT)
    transcript = _run(chat.respond("公式アプリの2026年度の目標は？", "all", [], None, None, []))[-1][4]
    file, status = chat.export(transcript)
    assert file["visible"] is True
    text = open(file["value"], encoding="utf-8").read()
    assert "> 公式アプリの2026年度の目標は？" in text
    assert "76,000件です。" in text
    assert "大分市 No.3 公式アプリの機能拡充" in text and "「大分市公式アプリのダウンロード件数 【76,000件/累積】」" in text
    assert "1 件" in status


def test_rate_and_clear(chat) -> None:
    status, _ = chat.rate(1, "", None)
    assert "まだありません" in status
    last = _run(chat.respond("公式アプリの2026年度の目標は？", "all", [], None, None, []))[-1][3]
    status, comment = chat.rate(-1, "数字が古い", last)
    assert "保存しました" in status and comment == ""
    saved = chat.feedback.list_recent(1)[0]
    assert saved["rating"] == -1 and saved["comment"] == "数字が古い"
    assert saved["question"] == "公式アプリの2026年度の目標は？" and "76,000" in saved["answer"]
    assert '"measure": "3"' in saved["citations"]
    history, conversation, last_answer, transcript, chips, card, indicator, chart, series, status, file = chat.clear()
    assert history == [] and conversation is None and last_answer is None and transcript == []
    assert chips["visible"] is False and card == CARD_HINT and chart["visible"] is False and file["visible"] is False


def test_kpi_browser_filter_and_export(tmp_path) -> None:
    browser = KpiBrowser(FakeAssistant())
    assert browser.cities == ["大分市", "延岡市"] and browser.years == ["2025", "2026", "2030"]
    assert len(browser.filter("", "すべて", "すべて")) == 4
    assert [r[2] for r in browser.filter("橋梁", "大分市", "2026")] == ["No.12"]
    path = browser.export("", "延岡市", "すべて")
    rows = list(csv.reader(open(path, encoding="utf-8-sig")))
    assert rows[0][0] == "市" and len(rows) == 2 and rows[1][0] == "延岡市"
    browser.assistant.measures = lambda plan=None: []  # index rebuilt without KPIs
    assert browser.reload("", "すべて", "すべて") == []


def test_auth_helpers() -> None:
    assert parse_auth(None) is None
    assert parse_auth("admin:pa:ss") == ("admin", "pa:ss")
    auth = parse_auth("admin:secret")
    assert check_login("admin", "secret", auth)
    assert not check_login("admin", "wrong", auth) and not check_login("", "", auth)
    assert check_login(None, None, None)


def test_protected_handlers_need_login(tmp_path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.save("q", "a", "[]", 1)
    view = FeedbackView(store)
    assert view.recent(False) == [] and view.export(False) is None
    assert view.recent(True)[0][1] == "👍"
    assert open(view.export(True), encoding="utf-8-sig").read().count("\n") == 2
    assert Evaluator(FakeAssistant()).run("oita.jsonl", None, False)[0] == LOGIN_REQUIRED


def test_evaluator_without_harness(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "assistant.evaluate.harness", None)  # import fails
    status, _, rows = Evaluator(FakeAssistant()).run("oita.jsonl", None, True)
    assert status == EVAL_UNAVAILABLE and rows == []


def test_evaluator_with_harness(monkeypatch, tmp_path) -> None:
    golden = tmp_path / "golden"
    golden.mkdir()
    (golden / "mini.jsonl").write_text(
        '{"id": "a", "question": "公式アプリの2026年度の目標は？", "type": "kpi"}\n'
        '{"id": "b", "question": "延岡市の重点方針2のKPIは？", "type": "kpi"}\n',
        encoding="utf-8",
    )
    seen: list[tuple[int, int]] = []

    def run_eval(assistant, items, progress=None):
        out = []
        for i, item in enumerate(items, 1):
            answer = assistant.ask(item["question"])
            out.append({"id": item["id"], "question": item["question"], "passed": item["id"] == "a",
                        "answer": answer.text, "type": "kpi", "reasons": [] if item["id"] == "a" else ["not cited: nobeoka:9"],
                        "citations": [{"plan": c.plan, "measure": c.measure} for c in answer.citations]})
            progress(i, len(items))
        metrics = {"pass_rate": 0.5, "latency_p50_ms": 12.0, "count": 2}
        return {"metrics": {"overall": metrics, "by_type": {"kpi": metrics}}, "items": out}

    monkeypatch.setitem(sys.modules, "assistant.evaluate.harness", types.SimpleNamespace(run_eval=run_eval))
    status, metrics, rows = Evaluator(FakeAssistant(), golden_dir=golden).run(
        "mini.jsonl", None, True, lambda value, desc="": seen.append(value))
    assert "2 件を評価しました" in status and "合格 1 件" in status
    assert metrics["headers"] == ["区分", "合格率", "応答時間p50(ms)", "件数"]
    assert metrics["value"][0] == ["全体", "50.0%", "12", "2"]
    assert rows[0][0].startswith("✅") and rows[1][0].startswith("❌")
    assert rows[0][5] == "oita:3"
    assert rows[0][6] == "" and rows[1][6] == "not cited: nobeoka:9"
    assert seen == [(1, 2), (2, 2)]
    assert "ありません" in Evaluator(FakeAssistant(), golden_dir=golden).run("../x.jsonl", None, True)[0]
