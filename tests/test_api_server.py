"""The HTTP API (FastAPI) with the real assistant on fake embeddings: /api/ask with
conversations, measures, health, errors in Japanese, the bearer token, the
OpenAI-compatible /v1 endpoints (also through the openai client and SSE on a
served port), and the Gradio UI mounted on the same app."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.service import Assistant
from assistant.types import Answer
from tests.conftest import FakeEmbeddings, make_settings, serve_in_thread
from ui.openai_api import conversation_from, message_content
from ui.rest_api import AnswerOut
from ui.server import build_server

QUESTION = "大分市の施策No.3の2026年度の目標は？"


@pytest.fixture(scope="module")
def client(fake_assistant) -> TestClient:
    return TestClient(build_server(fake_assistant, fake_assistant.settings))


# --- /api -------------------------------------------------------------------

def test_ask_and_follow_up_in_one_conversation(client):
    first = client.post("/api/ask", json={"question": QUESTION})
    assert first.status_code == 200, first.text
    data = first.json()
    assert (data["citations"][0]["plan"], data["citations"][0]["measure"]) == ("oita", "3")
    assert "76,000件" in data["text"] and data["backend"] == "extractive" and data["conversation_id"]
    follow = client.post("/api/ask", json={"question": "それの2025年度は？", "conversation_id": data["conversation_id"]})
    assert follow.status_code == 200 and follow.json()["conversation_id"] == data["conversation_id"]
    assert follow.json()["citations"][0]["measure"] == "3" and "68,000件" in follow.json()["text"]
    fresh = client.post("/api/ask", json={"question": "それの2025年度は？"}).json()
    assert fresh["conversation_id"] != data["conversation_id"]


def test_ask_with_plan_name(client):
    data = client.post("/api/ask", json={"question": "重点方針2のKPIは？", "plan": "延岡市"}).json()
    assert {c["plan"] for c in data["citations"]} == {"nobeoka"}


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"question": ""}, 400, "質問が空です"),
    ({"question": "あ" * 2001}, 400, "質問が長すぎます"),
    ({"question": QUESTION, "plan": "tokyo"}, 400, "計画「tokyo」はありません"),
    ({"plan": "oita"}, 422, "question がありません"),
    ({"question": 3}, 422, "question は文字列で指定してください"),
    ({"question": QUESTION, "conversation_id": "../../etc"}, 422, "conversation_id の形式が正しくありません"),
])
def test_ask_bad_input_is_a_japanese_4xx(client, body, status, message):
    response = client.post("/api/ask", json=body)
    assert response.status_code == status and message in response.json()["error"], response.text


def test_malformed_json_and_too_large_bodies(client):
    broken = client.post("/api/ask", content=b'{"question": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and "JSON として読めません" in broken.json()["error"]
    huge = client.post("/api/ask", json={"question": "あ" * 70_000})
    assert huge.status_code == 413 and "大きすぎます" in huge.json()["error"]


def test_measures(client):
    oita = client.get("/api/measures", params={"plan": "oita"}).json()
    assert len(oita) == 32 and {m["plan"] for m in oita} == {"oita"}
    assert client.get("/api/measures", params={"plan": "大分市"}).json() == oita
    assert len(client.get("/api/measures").json()) == 32 + 7
    one = client.get("/api/measures/oita/3").json()
    assert one["title"] == "公式アプリの機能拡充" and any("76,000件" in k["text"] for k in one["kpis"])
    missing = client.get("/api/measures/nobeoka/99")
    assert missing.status_code == 404 and missing.json() == {"error": "延岡市 重点方針99 は計画にありません。"}
    assert client.get("/api/measures/tokyo/3").status_code == 400
    assert client.get("/api/measures/oita/abc").json()["error"].startswith("リクエストの形式が正しくありません")


def test_health(client, fake_assistant):
    data = client.get("/api/health").json()
    assert data["status"] == "ok" and data["index_generation"] == fake_assistant.snapshot.name
    assert data["backend"] == "extractive" and data["llm_model"] is None
    assert data["plans"] == {"oita": "大分市", "nobeoka": "延岡市"}


def test_missing_index_is_503_with_the_fix(tmp_path):
    empty = Assistant(make_settings(tmp_path), FakeEmbeddings(size=64))
    client = TestClient(build_server(empty, empty.settings))
    for response in (client.post("/api/ask", json={"question": QUESTION}), client.get("/api/health"),
                     client.get("/api/measures"),
                     client.post("/v1/chat/completions", json={"model": "planqa", "messages": [
                         {"role": "user", "content": QUESTION}]})):
        assert response.status_code == 503, response.text
        assert "planqa ingest" in json.dumps(response.json(), ensure_ascii=False)


def test_bearer_token(fake_assistant):
    settings = fake_assistant.settings.model_copy(update={"api_token": SecretStr("s3cret")})
    client = TestClient(build_server(fake_assistant, settings))
    assert client.get("/api/health").status_code == 200  # probes need no token
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
        denied = client.get("/api/measures", headers=headers)
        assert denied.status_code == 401 and "API トークン" in denied.json()["error"]
        assert denied.headers["www-authenticate"] == "Bearer"
    denied = client.get("/v1/models")
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "invalid_api_key"
    assert client.get("/api/measures", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_answer_schema_covers_the_answer_object():
    fields = set(Answer.__dataclass_fields__)
    assert fields <= set(AnswerOut.model_fields), fields - set(AnswerOut.model_fields)


def test_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/measures", "/api/measures/{plan}/{number}", "/api/health",
            "/v1/chat/completions", "/v1/models"} <= set(paths)


# --- /v1 (OpenAI-compatible) ----------------------------------------------------

def test_models(client):
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert ids == ["planqa", "planqa-oita", "planqa-nobeoka"]


def test_chat_completion_and_follow_up_from_history(client):
    body = {"model": "planqa", "messages": [{"role": "system", "content": "あなたは…"},
                                            {"role": "user", "content": QUESTION}]}
    data = client.post("/v1/chat/completions", json=body).json()
    message = data["choices"][0]["message"]
    assert data["object"] == "chat.completion" and message["role"] == "assistant"
    assert "76,000件" in message["content"] and "[oita:3]" in message["content"]
    assert message["citations"][0]["measure"] == "3" and message["citations"][0]["label"].startswith("大分市 No.3")
    body["messages"] += [message, {"role": "user", "content": [{"type": "text", "text": "それの2025年度は？"}]}]
    follow = client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]
    assert "68,000件" in follow["content"] and follow["citations"][0]["measure"] == "3"


def test_chat_completion_errors_use_the_openai_shape(client):
    unknown = client.post("/v1/chat/completions", json={"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
    no_user = client.post("/v1/chat/completions", json={"model": "planqa", "messages": [{"role": "system", "content": "x"}]})
    assert no_user.status_code == 400 and "user のメッセージ" in no_user.json()["error"]["message"]
    empty = client.post("/v1/chat/completions", json={"model": "planqa", "messages": []})
    assert empty.status_code == 422 and empty.json()["error"]["type"] == "invalid_request_error"


def test_history_markers_become_a_conversation():
    conversation = conversation_from([
        _msg("user", "公式アプリの目標は？"), _msg("assistant", "…\n\n根拠:\n- 大分市 No.3 公式アプリ（KPI） [oita:3]"),
        _msg("user", "それの2025年度は？"),
    ])
    assert conversation.last_measures() == [("oita", "3")]


def _msg(role: str, content: str):
    from ui.openai_api import ChatMessage

    return ChatMessage(role=role, content=content)


def test_message_content_lists_citations(fake_assistant):
    answer = fake_assistant.ask(QUESTION)
    content = message_content(answer, fake_assistant.plans)
    assert content.startswith(answer.text) and "根拠:\n- 大分市 No.3 公式アプリの機能拡充" in content


# --- one served port: openai client, SSE, Gradio ---------------------------------------

@pytest.fixture(scope="module")
def served(fake_assistant, tmp_path_factory) -> Iterator[str]:
    from ui.app import build_app

    settings = fake_assistant.settings.model_copy(update={"feedback_db": tmp_path_factory.mktemp("fb") / "fb.sqlite3"})
    app = build_server(fake_assistant, settings, build_app(fake_assistant, settings))
    yield from serve_in_thread(app)


@pytest.mark.e2e
def test_openai_client_streaming_and_not(served):
    from openai import OpenAI

    client = OpenAI(base_url=f"{served}/v1", api_key="unused", max_retries=0, timeout=30)
    whole = client.chat.completions.create(model="planqa-oita", messages=[{"role": "user", "content": QUESTION}])
    content = whole.choices[0].message.content
    assert "76,000件" in content and whole.choices[0].message.model_extra["citations"][0]["measure"] == "3"
    stream = client.chat.completions.create(model="planqa-oita", messages=[{"role": "user", "content": QUESTION}],
                                            stream=True)
    chunks = list(stream)
    assert len(chunks) > 3 and "".join(c.choices[0].delta.content or "" for c in chunks) == content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].choices[0].delta.model_extra["citations"][0]["plan"] == "oita"


@pytest.mark.e2e
def test_raw_sse_ends_with_done(served):
    import httpx

    body = {"model": "planqa", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", f"{served}/v1/chat/completions", json=body, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["choices"][0]["delta"]["role"] == "assistant"


@pytest.mark.e2e
def test_gradio_ui_and_its_ask_endpoint_on_the_same_port(served):
    import httpx
    from gradio_client import Client

    page = httpx.get(f"{served}/", timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower()
    result = Client(served, verbose=False).predict(QUESTION, "oita", api_name="/ask")
    assert result["citations"][0]["measure"] == "3"
    assert httpx.get(f"{served}/api/health", timeout=30).json()["status"] == "ok"


# --- shared parts ----------------------------------------------------------------

def test_gate_limits_parallel_work_and_refuses_a_flood():
    import threading
    import time as clock

    from ui.api_context import ApiError, Gate

    gate, running, peak, lock = Gate(2, max_waiting=1, wait_s=5), [0], [0], threading.Lock()
    release = threading.Event()

    def work() -> str:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        return threading.current_thread().name

    results, errors = [], []

    def call() -> None:
        try:
            results.append(gate.run(work))
        except ApiError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(3)]  # 2 running + 1 waiting
    for t in threads:
        t.start()
    clock.sleep(0.3)
    call()  # the fourth finds the queue full
    release.set()
    for t in threads:
        t.join(5)
    assert len(results) == 3 and peak[0] == 2 and all(name.startswith("planqa-api") for name in results)
    assert len(errors) == 1 and errors[0].status == 503 and "混み合っています" in errors[0].message


def test_conversation_store_is_a_bounded_lru():
    from ui.api_context import ConversationStore

    store = ConversationStore(max_size=2)
    a, conv_a = store.get(None)
    b, conv_b = store.get(None)
    assert store.get(a)[1] is conv_a  # touching a makes b the oldest
    store.get("c")
    assert len(store) == 2 and store.get(a)[1] is conv_a
    assert store.get(b)[1] is not conv_b  # b was dropped: its id starts a new conversation
