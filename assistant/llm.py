"""LLM backends (OpenAI-compatible servers, Ollama) on LangChain's own chat models.

The LLM only rewrites: retrieval and the extractive draft come first, the model
answers from the same evidence (:func:`assistant.evidence.llm_context`), and
:func:`verify` checks the result. The reply is streamed; while it grows, the text
so far goes to the caller's sink (:mod:`assistant.streaming`). Citations outside
the evidence are dropped; an answer with no valid citation, or with a number or
year not in its cited sources, is replaced by the extractive draft with a notice.
A server that is down, slow or answers garbage gives the draft with a notice too.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.evidence import EvidenceItem, llm_context
from assistant.settings import Settings
from assistant.streaming import emit_text
from assistant.types import Answer, Citation
from prompts import render

log = logging.getLogger("planqa.llm")

_CITE = re.compile(r"\[([a-z0-9_-]+):(\d+|[a-z0-9_-]+)\]")
_OPEN_CITE = re.compile(r"[［\[][a-z0-9_:：-]*$")  # a citation still arriving at the end of the stream
_WIDE_CITE = re.compile(r"[［\[]([a-z0-9_-]+)[:：]([a-z0-9_-]+)[］\]]")
_NUMBER = re.compile(r"\d[\d,.]*")
_SENTENCE = re.compile(r".+?(?:。|\n|$)", re.DOTALL)

NOTICE_DOWN = "LLM に接続できなかったため、計画の記載から直接回答しました。"
NOTICE_SLOW = "LLM の応答が {seconds:g} 秒以内に終わらなかったため、計画の記載から直接回答しました。"
NOTICE_NUMBERS = "LLM の回答に根拠のない数値があったため、計画の記載から直接回答した内容に差し替えました。"
NOTICE_NO_SOURCE = "LLM の回答が根拠の資料を示さなかったため、計画の記載から直接回答した内容に差し替えました。"


class AnswerTimeout(TimeoutError):
    """The whole reply took longer than the configured time limit."""


def make_chat_model(flavour: str, settings: Settings) -> BaseChatModel:
    """``openai`` → ``ChatOpenAI`` at ``base_url``; ``ollama`` → ``ChatOllama``. Key from settings only."""
    if not settings.llm_base_url or not settings.llm_model:
        from assistant.backends import BackendError

        raise BackendError("LLM バックエンドには PLANQA_LLM_BASE_URL と PLANQA_LLM_MODEL の設定が必要です。")
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if flavour == "ollama":
        from langchain_ollama import ChatOllama

        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return ChatOllama(model=settings.llm_model, base_url=settings.llm_base_url, temperature=0,
                          client_kwargs={"timeout": settings.llm_timeout_s, "headers": headers})
    from langchain_openai import ChatOpenAI

    # Local OpenAI-compatible servers take any key; never fall back to OPENAI_API_KEY,
    # which would send a user's OpenAI key to whatever server base_url names.
    return ChatOpenAI(model=settings.llm_model, base_url=settings.llm_base_url, api_key=key or "not-needed",
                      timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries, temperature=0)


def build_messages(inputs: dict[str, str]) -> list[BaseMessage]:
    return [SystemMessage(render("answer_system")), HumanMessage(render("answer_user", **inputs))]


def render_context(items: list[EvidenceItem]) -> str:
    return "\n\n".join(f"[{key}] {label}\n{text}" for key, label, text in items)


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


def visible_text(raw: str) -> str:
    """What the reader sees of a (partial) reply: no citation markers, half-arrived ones included."""
    return _OPEN_CITE.sub("", _CITE.sub("", _normalise(raw))).strip()


def _normalise(text: str) -> str:
    """Full-width citation brackets (［oita：3］) as the ASCII ones the prompt asks for."""
    return _WIDE_CITE.sub(r"[\1:\2]", text)


def _failure_notice(exc: Exception, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
        return NOTICE_SLOW.format(seconds=timeout_s)
    return NOTICE_DOWN


def _joined(*notices: str) -> str:
    return " ".join(n for n in notices if n)


class LLMBackend:
    """Streams the chat model's answer from the evidence, then verifies it."""

    def __init__(self, chat_model: BaseChatModel, name: str = "llm", model: str = "", timeout_s: float = 60.0):
        self.name = name
        self.model = model
        self.timeout_s = timeout_s
        self.chat_model = chat_model

    @classmethod
    def from_settings(cls, flavour: str, settings: Settings) -> LLMBackend:
        return cls(make_chat_model(flavour, settings), flavour, settings.llm_model, settings.llm_timeout_s)

    def rewrite(self, query, draft: Answer, selection, snapshot) -> Answer:
        """The LLM's answer from the selection's facts, verified; otherwise ``draft`` with a notice."""
        items = llm_context(selection, snapshot)
        if not items:
            return draft
        try:
            raw = self._generate({"context": render_context(items), "question": query.text})
        except Exception as exc:  # server down, timeout, bad reply: the extractive answer stands
            log.warning("LLM call failed (%s); using the extractive answer", type(exc).__name__)
            return replace(draft, notice=_joined(draft.notice, _failure_notice(exc, self.timeout_s)))
        return self._checked(raw, draft, items)

    def _generate(self, inputs: dict[str, str]) -> str:
        """The whole reply; each growing prefix goes to the stream sink; bounded by ``timeout_s`` in total."""
        deadline = time.monotonic() + self.timeout_s
        raw = ""
        # chat_model.stream itself, not a `prompt | model | parser` sequence: in langchain-core 1.8
        # such a sequence handed over the pieces only once the whole reply had arrived.
        for chunk in self.chat_model.stream(build_messages(inputs)):
            piece = str(chunk.text)
            raw += piece
            if time.monotonic() > deadline:
                raise AnswerTimeout(f"no complete reply within {self.timeout_s} s")
            if piece:
                emit_text(visible_text(raw))
        return raw

    def _checked(self, raw: str, draft: Answer, items: list[EvidenceItem]) -> Answer:
        text = _normalise(raw)
        context = {key: body for key, _, body in items}
        cited, invented = verify(text, context)
        if not cited or invented:
            log.warning("LLM answer rejected (cited=%s, numbers not in sources=%s); using the extractive answer",
                        cited, invented)
            notice = NOTICE_NO_SOURCE if not cited else NOTICE_NUMBERS
            return replace(draft, notice=_joined(draft.notice, notice))
        labels = {key: label for key, label, _ in items}
        by_key = {(c.plan, c.measure): c for c in draft.citations if c.measure}
        citations = []
        for plan, ref in cited:
            key = f"{plan}:{ref}"
            measure = ref if ref.isdigit() else None
            known = by_key.get((plan, measure)) if measure else None
            title = labels[key].split(" ", 2 if measure else 1)[-1]  # label minus 「大分市 No.3」 / 「大分市」
            citations.append(known or Citation(plan, measure, title, "llm" if measure else "section",
                                               context[key].split("\n", 1)[-1][:120], labels[key]))
        body = visible_text(text)
        lead = _SENTENCE.match(body)
        return replace(draft, text=body, citations=citations, backend=self.name,
                       lead=lead.group(0).strip() if lead else body)
