"""The チャット tab: streamed answers, citation buttons, source cards and 👍/👎.

Handlers live on :class:`ChatController` so they can be tested without a browser;
:func:`build_chat_tab` only lays out components and wires events.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import gradio as gr

from assistant.conversation import Conversation
from assistant.types import Answer, Citation, InvalidQuestion
from ingest.records import Measure, PlanInfo
from ui.feedback import FeedbackStore
from ui.render import answer_to_api, answer_to_markdown, citation_label, esc, source_card

logger = logging.getLogger(__name__)

BOTH = "all"
EXAMPLES = [
    "公式アプリの2026年度の目標は？",
    "橋の点検ってどう変わるの？",
    "延岡市の重点方針2のKPIは？",
]
EMPTY_QUESTION = "質問を入力してください。"
INTERNAL_ERROR = "回答の作成中にエラーが発生しました。時間をおいてもう一度お試しください。"
CARD_HINT = '<p class="source-hint">根拠を選ぶと、計画の原文（該当箇所を強調）とKPIが表示されます。</p>'
MAX_ECHO_CHARS = 1000


class AssistantLike(Protocol):
    """The engine interface the UI needs (assistant.service.Assistant)."""

    plans: dict[str, PlanInfo]

    def ask(self, question: str, plan: str | None = None, conversation: Conversation | None = None) -> Answer: ...

    def measures(self, plan: str | None = None) -> list[Measure]: ...

    def measure(self, plan: str, number: int) -> Measure | None: ...


def resolve_plan(plans: Mapping[str, PlanInfo], plan: str | None) -> str | None:
    """Plan id from an id, a city name or 両方/all/None (→ None = both plans)."""
    value = "" if plan is None else str(plan).strip()
    if value in ("", BOTH, "両方", "both", "すべて"):
        return None
    if value in plans:
        return value
    for plan_id, info in plans.items():
        if value == info.city:
            return plan_id
    known = "、".join(f"{pid}（{info.city}）" for pid, info in plans.items())
    raise InvalidQuestion(f"計画「{value}」はありません。指定できるのは {known} です。")


def _chunks(text: str, size: int = 24) -> Iterator[str]:
    for end in range(size, len(text), size):
        yield text[:end]


class ChatController:
    """Chat handlers bound to one assistant and feedback store."""

    def __init__(self, assistant: AssistantLike, feedback: FeedbackStore, stream_delay: float = 0.02) -> None:
        self.assistant = assistant
        self.feedback = feedback
        self.stream_delay = stream_delay

    def plan_choices(self) -> list[tuple[str, str]]:
        """Radio choices: one per plan (city name) plus 両方."""
        return [(info.city, pid) for pid, info in self.assistant.plans.items()] + [("両方", BOTH)]

    def citation_choices(self, answer: Answer | None) -> list[tuple[str, str]]:
        if answer is None:
            return []
        return [(citation_label(c, self.assistant.plans), str(i)) for i, c in enumerate(answer.citations)]

    def _citations_update(self, answer: Answer | None) -> dict[str, Any]:
        choices = self.citation_choices(answer)
        return gr.update(choices=choices, value=None, visible=bool(choices))

    def respond(
        self,
        question: str | None,
        plan: str | None,
        history: list[dict[str, Any]] | None,
        conversation: Conversation | None,
        last: Answer | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream an answer: yields (textbox, chatbot, conversation, last answer, citations, card)."""
        history = list(history or [])
        conversation = conversation if conversation is not None else Conversation()
        text = (question or "").strip()
        if not text:
            history.append({"role": "assistant", "content": f"⚠️ {EMPTY_QUESTION}"})
            yield "", history, conversation, last, self._citations_update(last), gr.update()
            return
        echo = text if len(text) <= MAX_ECHO_CHARS else text[:MAX_ECHO_CHARS] + "…"
        history.append({"role": "user", "content": esc(echo)})
        history.append({"role": "assistant", "content": "（計画を検索しています…）"})
        yield "", history, conversation, last, gr.update(), gr.update()
        try:
            answer = self.assistant.ask(text, plan=resolve_plan(self.assistant.plans, plan), conversation=conversation)
        except InvalidQuestion as exc:
            history[-1] = {"role": "assistant", "content": f"⚠️ {esc(exc)}"}
            yield gr.update(), history, conversation, last, self._citations_update(last), gr.update()
            return
        except Exception:  # never show a traceback in the chat
            logger.exception("answering failed")
            history[-1] = {"role": "assistant", "content": f"⚠️ {INTERNAL_ERROR}"}
            yield gr.update(), history, conversation, last, self._citations_update(last), gr.update()
            return
        keep = gr.update()  # leave the textbox alone: the user may already type the next question
        for partial in _chunks(answer.text):
            history[-1] = {"role": "assistant", "content": esc(partial) + " ▌"}
            yield keep, history, conversation, last, keep, keep
            if self.stream_delay:
                time.sleep(self.stream_delay)
        history[-1] = {"role": "assistant", "content": answer_to_markdown(answer, self.assistant.plans)}
        yield keep, history, conversation, answer, self._citations_update(answer), CARD_HINT

    def show_source(self, choice: str | None, last: Answer | None) -> str:
        """Source card HTML for the selected citation of the latest answer."""
        if last is None or choice in (None, ""):
            return CARD_HINT
        try:
            citation: Citation = last.citations[int(str(choice))]
        except (ValueError, IndexError):
            return CARD_HINT
        measure = None
        if citation.measure:
            try:
                measure = self.assistant.measure(citation.plan, int(citation.measure))
            except (ValueError, TypeError):
                measure = None
            except Exception:
                logger.exception("measure lookup failed")
        return source_card(measure, self.assistant.plans.get(citation.plan), citation)

    def rate(self, rating: int, comment: str | None, last: Answer | None) -> tuple[str, str]:
        """Store 👍 (+1) / 👎 (-1) for the latest answer; returns (status, cleared comment)."""
        if last is None:
            return "評価する回答がまだありません。先に質問してください。", comment or ""
        citations = json.dumps(answer_to_api(last, self.assistant.plans)["citations"], ensure_ascii=False)
        try:
            self.feedback.save(last.question, last.text, citations, rating, comment or "")
        except Exception:
            logger.exception("saving feedback failed")
            return "フィードバックを保存できませんでした。", comment or ""
        return ("👍" if rating > 0 else "👎") + " フィードバックを保存しました。ありがとうございます。", ""

    def clear(self) -> tuple[Any, ...]:
        """Reset chat, conversation, latest answer, citations, card and feedback status."""
        return [], None, None, gr.update(choices=[], value=None, visible=False), CARD_HINT, ""


def build_chat_tab(controller: ChatController, concurrency_id: str) -> None:
    """Lay out the チャット tab inside the current gr.Tab and wire its events."""
    conversation = gr.State(None)
    last = gr.State(None)
    with gr.Row():
        with gr.Column(scale=3):
            plan = gr.Radio(controller.plan_choices(), value=BOTH, label="対象の計画", elem_id="plan-select")
            chatbot = gr.Chatbot(
                label="回答",
                height=480,
                elem_id="chatbot",
                feedback_options=None,
                buttons=["copy"],
                placeholder="大分市・延岡市のDX計画について質問してください。回答には根拠の施策番号が付きます。",
            )
            with gr.Row():
                question = gr.Textbox(
                    label="質問",
                    placeholder="例：公式アプリの2026年度の目標は？",
                    scale=5,
                    elem_id="question",
                    submit_btn=False,
                )
                send = gr.Button("送信", variant="primary", scale=1, elem_id="send")
            with gr.Row():
                example_buttons = [gr.Button(q, size="sm", elem_classes=["example-question"]) for q in EXAMPLES]
            clear = gr.Button("会話をクリア", size="sm", elem_id="clear")
        with gr.Column(scale=2):
            citations = gr.Radio([], label="根拠（クリックで原文を表示）", visible=False, elem_id="citations")
            card = gr.HTML(CARD_HINT, elem_id="source-card")
            with gr.Group():
                comment = gr.Textbox(label="コメント（任意）", lines=2, max_lines=6, elem_id="feedback-comment")
                with gr.Row():
                    good = gr.Button("👍 役に立った", size="sm", elem_id="feedback-good")
                    bad = gr.Button("👎 役に立たなかった", size="sm", elem_id="feedback-bad")
                status = gr.Markdown("", elem_id="feedback-status")

    answer_io = dict(
        fn=controller.respond,
        inputs=[question, plan, chatbot, conversation, last],
        outputs=[question, chatbot, conversation, last, citations, card],
        api_visibility="private",
        concurrency_id=concurrency_id,
    )
    # one event for both triggers: trigger_mode="once" ignores a second send while an answer streams
    gr.on([send.click, question.submit], trigger_mode="once", **answer_io)
    for button, text in zip(example_buttons, EXAMPLES, strict=True):
        button.click(lambda t=text: t, None, question, queue=False, api_visibility="private").then(**answer_io)
    citations.change(controller.show_source, [citations, last], card, api_visibility="private", queue=False)
    for trigger in (clear.click, chatbot.clear):  # the button and the chatbot's own 🗑
        trigger(
            controller.clear, None, [chatbot, conversation, last, citations, card, status],
            api_visibility="private", queue=False,
        )
    for button, rating in ((good, 1), (bad, -1)):
        button.click(
            lambda c, a, r=rating: controller.rate(r, c, a), [comment, last], [status, comment],
            api_visibility="private", queue=False,
        )
