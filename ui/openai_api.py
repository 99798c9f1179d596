"""``/v1/*``: the OpenAI chat-completions shape, so chat front ends can use planqa as a "model".

The assistant message is planqa's answer: its text, the notice, and a 根拠 list
whose lines end in ``[plan:measure]``; the same citations come as structured data
in ``message.citations`` (the last chunk's ``delta.citations`` when streaming).
Front ends resend the whole conversation each time; the ``[plan:measure]`` markers
in earlier assistant messages give planqa the measures that follow-up questions
(「それの2025年度は？」) refer to, so no server-side state is needed.

Streaming sends the answer only once it is verified: a front end never shows a
number that is then withdrawn.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.conversation import Conversation
from assistant.types import Answer, Citation
from ui.api_context import ApiContext, ApiError
from ui.render import answer_to_api, citation_label, field_name
from ui.rest_api import CitationOut

MODEL_PREFIX = "planqa"
STREAM_PIECE_CHARS = 24
_MARKER = re.compile(r"\[([a-z0-9_-]+):(\d+)\]")


class OpenAIError(BaseModel):
    message: str = Field(description="日本語のエラーメッセージ")
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorResponse(BaseModel):
    error: OpenAIError


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = Field(description="system / user / assistant など")
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens … are accepted and ignored
    model: str = Field(description="planqa（両方の計画）または planqa-<計画 ID>", examples=["planqa"])
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[CitationOut] = Field(description="根拠の施策・節（構造化データ）")


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: str


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    description: str = ""


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def _error(description: str) -> dict[str, Any]:
    return {"model": OpenAIErrorResponse, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("入力の誤り（質問がない、長すぎるなど）"),
    401: _error("PLANQA_API_TOKEN が設定され、Bearer トークンがない・違う"),
    404: _error("不明なモデル名"),
    413: _error("リクエストが大きすぎる"),
    422: _error("リクエストの形式の誤り"),
    503: _error("索引やモデルがない、または混み合っている"),
}


def model_ids(plans) -> dict[str, str | None]:
    """Model name → plan id: ``planqa`` answers from every plan, ``planqa-oita`` from one."""
    return {MODEL_PREFIX: None, **{f"{MODEL_PREFIX}-{pid}": pid for pid in plans}}


def conversation_from(messages: list[ChatMessage]) -> Conversation:
    """Earlier turns as planqa answers: the measures each assistant message cited."""
    conversation = Conversation()
    for message in messages:
        if message.role != "assistant":
            continue
        cited = list(dict.fromkeys(_MARKER.findall(message.text())))
        if cited:
            conversation.add(Answer("", message.text(), [Citation(p, m, "", "", "") for p, m in cited]))
    return conversation


def message_content(answer: Answer, plans) -> str:
    """The answer as chat text: body, notice, and 根拠 lines ending in ``[plan:measure]``."""
    parts = [answer.text]
    if answer.notice:
        parts.append(f"※ {answer.notice}")
    if answer.citations:
        lines = ["根拠:"]
        for c in answer.citations:
            marker = f" [{c.plan}:{c.measure}]" if c.measure else ""
            lines.append(f"- {citation_label(c, plans)}（{field_name(c.field)}）{marker}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _sse(data: dict[str, Any] | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def _chunks(completion_id: str, created: int, model: str, content: str, citations: list) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return _sse({"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    yield chunk({"role": "assistant", "content": ""})
    for start in range(0, len(content), STREAM_PIECE_CHARS):
        yield chunk({"content": content[start:start + STREAM_PIECE_CHARS]})
    yield chunk({"citations": citations}, "stop")
    yield _sse("[DONE]")


def openai_router(ctx: ApiContext, auth) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["OpenAI 互換"], dependencies=[Depends(auth)])

    @router.get("/models", response_model=ModelList, responses=ERRORS, summary="モデル（計画の組み合わせ）の一覧")
    def models() -> dict[str, Any]:
        plans = ctx.assistant.plans
        now = int(time.time())
        return {"object": "list", "data": [
            {"id": mid, "object": "model", "created": now, "owned_by": "planqa",
             "description": f"{plans[pid].city}の計画から回答" if pid else "すべての計画から回答"}
            for mid, pid in model_ids(plans).items()
        ]}

    @router.post(
        "/chat/completions", response_model=ChatCompletion, summary="チャット補完（OpenAI 互換）",
        responses={**ERRORS, 200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                                   "description": "stream: true のときは SSE（chat.completion.chunk、最後に [DONE]）"}},
    )
    def chat_completions(body: ChatRequest) -> Any:
        plans = ctx.assistant.plans
        models = model_ids(plans)
        if body.model not in models:
            raise ApiError(404, f"モデル「{body.model}」はありません（使えるもの: {', '.join(models)}）。",
                           "model_not_found")
        question = next((m.text() for m in reversed(body.messages) if m.role == "user"), "")
        if not question.strip():
            raise ApiError(400, "質問（role が user のメッセージ）がありません。")
        conversation = conversation_from(body.messages)
        answer = ctx.gate.run(lambda: ctx.assistant.ask(question, plan=models[body.model], conversation=conversation))
        content = message_content(answer, plans)
        citations = answer_to_api(answer, plans)["citations"]
        completion_id, created = f"chatcmpl-{secrets.token_hex(12)}", int(time.time())
        if body.stream:
            return StreamingResponse(_chunks(completion_id, created, body.model, content, citations),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        return {"id": completion_id, "object": "chat.completion", "created": created, "model": body.model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content, "citations": citations}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}

    return router
