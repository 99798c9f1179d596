"""LLM backends (OpenAI-compatible servers, Ollama) as a LangChain runnable chain.

The LLM only rewrites: retrieval and the extractive draft come first, the model
answers from the same context, and :func:`verify` checks the result. An answer
whose citations point outside the context are dropped; one with a number or
year not in its cited sources is replaced by the extractive draft (logged).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda

from assistant.types import Answer, Citation
from prompts import render

log = logging.getLogger("planqa.llm")

_CITE = re.compile(r"\[([a-z0-9_-]+):(\d+|[a-z0-9_-]+)\]")
_NUMBER = re.compile(r"\d[\d,.]*")


class HTTPChatModel(BaseChatModel):
    """Minimal chat client for OpenAI-compatible ``/v1/chat/completions`` and Ollama ``/api/chat``."""

    base_url: str
    model: str
    api_key: str | None = None
    flavour: str = "openai"
    timeout: float = 60.0

    @property
    def _llm_type(self) -> str:
        return f"planqa-{self.flavour}"

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        payload_messages = [{"role": roles.get(m.type, "user"), "content": m.content} for m in messages]
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        if self.flavour == "ollama":
            url = self.base_url.rstrip("/") + "/api/chat"
            body = {"model": self.model, "messages": payload_messages, "stream": False, "options": {"temperature": 0}}
        else:
            url = self.base_url.rstrip("/") + "/chat/completions"
            body = {"model": self.model, "messages": payload_messages, "temperature": 0}
        response = httpx.post(url, json=body, headers=headers, timeout=self.timeout)
        response.raise_for_status()
        data = response.json()
        content = data["message"]["content"] if self.flavour == "ollama" else data["choices"][0]["message"]["content"]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=content))])


def build_messages(inputs: dict[str, str]) -> list[BaseMessage]:
    return [SystemMessage(render("answer_system")), HumanMessage(render("answer_user", **inputs))]


def numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def verify(text: str, context: dict[str, str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Return (valid citations, numbers not found in the cited sources)."""
    cited = [(p, m) for p, m in _CITE.findall(text) if f"{p}:{m}" in context]
    body = _CITE.sub("", text)
    sources = "".join(context[f"{p}:{m}"] for p, m in cited) if cited else ""
    source_numbers = numbers(sources)
    invented = sorted(n for n in numbers(body) if n not in source_numbers)
    return list(dict.fromkeys(cited)), invented


class LLMBackend:
    def __init__(self, chat_model: BaseChatModel, name: str = "llm"):
        self.name = name
        self.chain = RunnableLambda(build_messages) | chat_model | StrOutputParser()

    @classmethod
    def from_settings(cls, flavour: str, settings) -> LLMBackend:
        if not settings.llm_base_url or not settings.llm_model:
            raise ValueError("LLM バックエンドには PLANQA_LLM_BASE_URL と PLANQA_LLM_MODEL の設定が必要です。")
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        model = HTTPChatModel(base_url=settings.llm_base_url, model=settings.llm_model, api_key=key,
                              flavour=flavour, timeout=settings.llm_timeout_s)
        return cls(model, flavour)

    def context(self, targets, snapshot) -> dict[str, str]:
        ctx: dict[str, str] = {}
        for target in targets:
            if target.measure is None:
                continue
            chunks = [c for c in snapshot.chunks if c.plan == target.plan and c.measure == target.measure]
            ctx[f"{target.plan}:{target.measure}"] = "\n".join(f"{c.header}\n{c.text}" for c in chunks)
        return ctx

    def rewrite(self, query, draft: Answer, targets, snapshot) -> Answer:
        ctx = self.context(targets, snapshot)
        if not ctx:
            return draft
        rendered = "\n\n".join(f"[{key}]\n{text}" for key, text in ctx.items())
        try:
            text = self.chain.invoke({"context": rendered, "question": query.text})
        except Exception as exc:  # server down, timeout, bad reply: the extractive answer stands
            log.warning("LLM call failed (%s); using the extractive answer", type(exc).__name__)
            return replace(draft, notice="LLM に接続できなかったため、計画の記載から直接回答しました。")
        cited, invented = verify(text, ctx)
        if not cited or invented:
            log.warning("LLM answer rejected (cited=%s, numbers not in sources=%s); using the extractive answer",
                        cited, invented)
            return replace(draft, notice="LLM の回答に根拠のない数値があったため、計画の記載から直接回答しました。")
        by_key = {(c.plan, c.measure): c for c in draft.citations}
        citations = [by_key.get((p, m)) or Citation(p, m, "", "llm", ctx[f"{p}:{m}"][:120]) for p, m in cited]
        return replace(draft, text=_CITE.sub("", text).strip() + "", citations=citations, backend=self.name)
