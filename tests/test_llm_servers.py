"""The LLM backends against real loopback servers speaking the OpenAI (SSE) and
Ollama (NDJSON) protocols with scripted replies: a verified answer streams
through, an invented number falls back to the extractive answer, a slow or dead
server gives the extractive answer with a notice within the time limit."""

from __future__ import annotations

import time

import pytest
from llm_servers import Reply, ScriptedLLMServer, dead_port
from pydantic import SecretStr

from assistant.backends import make_backend
from assistant.service import Assistant
from assistant.types import Answer
from ui.render import answer_to_markdown, backend_name

QUESTION = "大分市の施策No.3の2026年度の目標は？"
GOOD = "公式アプリのダウンロード件数を2026年度に76,000件（累積）にする目標です。[oita:3]"
INVENTED = "公式アプリのダウンロード件数を2026年度に99,999件にする目標です。[oita:3]"

pytestmark = pytest.mark.parametrize("protocol", ["openai", "ollama"])


def _assistant(fake_index, protocol: str, base_url: str, timeout_s: float = 10.0, key: str | None = None) -> Assistant:
    settings, embeddings = fake_index
    settings = settings.model_copy(update={
        "backend": protocol, "llm_base_url": base_url, "llm_model": "scripted-model", "llm_timeout_s": timeout_s,
        "llm_max_retries": 0, "llm_api_key": SecretStr(key) if key else None,
    })
    return Assistant(settings, embeddings, backend=make_backend(protocol, settings))


def _run(assistant: Assistant) -> tuple[list[str], Answer]:
    items = list(assistant.stream(QUESTION))
    assert isinstance(items[-1], Answer) and all(isinstance(i, str) for i in items[:-1])
    return items[:-1], items[-1]


def test_verified_answer_streams_through(fake_index, protocol):
    with ScriptedLLMServer(protocol, [Reply(GOOD), Reply(GOOD)]) as server:
        assistant = _assistant(fake_index, protocol, server.base_url, key="secret-key")
        texts, answer = _run(assistant)
        asked = assistant.ask(QUESTION)
    assert len(texts) >= 3 and all(b.startswith(a) for a, b in zip(texts, texts[1:], strict=False))
    assert all("[" not in t for t in texts)  # citation markers never shown, not even half-arrived
    assert answer.backend == protocol and answer.text == texts[-1] and "76,000件" in answer.text
    assert [(c.plan, c.measure) for c in answer.citations] == [("oita", "3")] and not answer.notice
    assert asked.text == answer.text and asked.backend == protocol  # ask() gives the same final answer
    request = server.requests[0]
    assert request["model"] == "scripted-model" and request["stream"] is not False
    prompt = "\n".join(m["content"] for m in request["messages"])
    assert "[oita:3]" in prompt and "76,000件" in prompt and "施策No.3の2026年度の目標は" in prompt
    assert server.headers[0].get("authorization") == "Bearer secret-key"
    assert f"回答: {backend_name(protocol)}" in answer_to_markdown(answer)  # the chat shows who answered
    assert "LLM" in backend_name(protocol)


def test_invented_number_falls_back_to_extractive(fake_index, protocol):
    with ScriptedLLMServer(protocol, [Reply(INVENTED)]) as server:
        texts, answer = _run(_assistant(fake_index, protocol, server.base_url))
    assert any("99,999" in t for t in texts)  # it streamed …
    assert answer.backend == "extractive" and "99,999" not in answer.text and "76,000件" in answer.text
    assert "差し替えました" in answer.notice and "根拠のない数値" in answer.notice  # … and was replaced, saying so
    assert "回答: 計画の記載から抽出" in answer_to_markdown(answer)


def test_answer_without_citation_falls_back(fake_index, protocol):
    with ScriptedLLMServer(protocol, [Reply("目標は76,000件です。")]) as server:
        answer = _assistant(fake_index, protocol, server.base_url).ask(QUESTION)
    assert answer.backend == "extractive" and "根拠の資料を示さなかった" in answer.notice


def test_slow_server_gives_extractive_answer_within_timeout(fake_index, protocol):
    with ScriptedLLMServer(protocol, [Reply(GOOD, delay_s=30)]) as server:
        assistant = _assistant(fake_index, protocol, server.base_url, timeout_s=1.0)
        began = time.monotonic()
        texts, answer = _run(assistant)
        elapsed = time.monotonic() - began
    assert elapsed < 6, elapsed
    assert texts == [] and answer.backend == "extractive" and "76,000件" in answer.text
    assert "1 秒以内に終わらなかった" in answer.notice


def test_trickling_server_is_cut_at_the_timeout(fake_index, protocol):
    slow_pieces = Reply(GOOD * 20, piece_chars=2, piece_delay_s=0.1)  # each piece in time, the whole far too long
    with ScriptedLLMServer(protocol, [slow_pieces]) as server:
        assistant = _assistant(fake_index, protocol, server.base_url, timeout_s=1.5)
        began = time.monotonic()
        texts, answer = _run(assistant)
        elapsed = time.monotonic() - began
    assert elapsed < 6, elapsed
    assert texts and answer.backend == "extractive" and "秒以内に終わらなかった" in answer.notice


def test_dead_server_gives_extractive_answer(fake_index, protocol):
    base = f"http://127.0.0.1:{dead_port()}" + ("/v1" if protocol == "openai" else "")
    began = time.monotonic()
    texts, answer = _run(_assistant(fake_index, protocol, base, timeout_s=2.0))
    assert time.monotonic() - began < 5
    assert texts == [] and answer.backend == "extractive" and "76,000件" in answer.text
    assert "LLM に接続できなかった" in answer.notice
