"""The チャット tab: answer-first replies streamed as they come, one source chip per
measure, the source card with its KPI chart, 👍/👎 and the Markdown export.

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
from assistant.types import Answer, InvalidQuestion
from ingest.records import Measure, PlanInfo
from ui.export import write_conversation
from ui.feedback import FeedbackStore
from ui.render import SourceGroup, answer_to_api, answer_to_markdown, esc, source_groups
from ui.source_view import SourcePanel, build_source_panel, empty_source, lookup_measure, open_source

logger = logging.getLogger(__name__)

BOTH = "all"
EXAMPLES = [
    "公式アプリの2026年度の目標は？",
    "橋の点検ってどう変わるの？",
    "延岡市の重点方針2のKPIは？",
]
EMPTY_QUESTION = "質問を入力してください。"
INTERNAL_ERROR = "回答の作成中にエラーが発生しました。時間をおいてもう一度お試しください。"
SEARCHING = "（計画を検索しています…）"
NOTHING_TO_EXPORT = "書き出す会話がまだありません。先に質問してください。"
MAX_ECHO_CHARS = 1000


class AssistantLike(Protocol):
    """The engine interface the UI needs (assistant.service.Assistant)."""

    plans: dict[str, PlanInfo]

    def ask(self, question: str, plan: str | None = None, conversation: Conversation | None = None) -> Answer: ...

    def measures(self, plan: str | None = None) -> list[Measure]: ...

    def measure(self, plan: str, number: int) -> Measure | None: ...


# The engine may also offer ``stream(question, plan=None, conversation=None)``: it yields
# the answer text so far (str) while an LLM writes, then the final Answer.


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

    def groups(self, answer: Answer | None) -> list[SourceGroup]:
        return source_groups(answer.citations, self.assistant.plans) if answer is not None else []

    def citation_choices(self, answer: Answer | None) -> list[tuple[str, str]]:
        """One chip per cited measure or section: 「大分市 No.3 公式アプリの機能拡充｜KPI・概要」."""
        return [(g.chip, str(i)) for i, g in enumerate(self.groups(answer))]

    def _chips(self, answer: Answer | None) -> dict[str, Any]:
        choices = self.citation_choices(answer)
        return gr.update(choices=choices, value="0" if choices else None, visible=bool(choices))

    def _source(self, answer: Answer | None, choice: str | None = "0") -> tuple[Any, ...]:
        groups = self.groups(answer)
        try:
            group = groups[int(str(choice))]
        except (ValueError, IndexError):
            return empty_source()
        measure = lookup_measure(self.assistant, group.plan, group.measure)
        return open_source(measure, self.assistant.plans.get(group.plan), group.citations)

    def _answers(self, text: str, plan: str | None, conversation: Conversation) -> Iterator[str | Answer]:
        """The engine's stream when it has one (text so far, then the Answer), else ``ask``."""
        stream = getattr(self.assistant, "stream", None)
        if callable(stream):
            yield from stream(text, plan=plan, conversation=conversation)
        else:
            yield self.assistant.ask(text, plan=plan, conversation=conversation)

    def respond(
        self,
        question: str | None,
        plan: str | None,
        history: list[dict[str, Any]] | None,
        conversation: Conversation | None,
        last: Answer | None,
        transcript: list[Answer] | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream an answer. Yields (textbox, chatbot, conversation, last answer, transcript,
        chips, card, indicator, chart, series)."""
        history = list(history or [])
        transcript = list(transcript or [])
        conversation = conversation if conversation is not None else Conversation()
        keep = gr.update()
        same_source = (keep, keep, keep, keep)
        text = (question or "").strip()
        if not text:
            history.append({"role": "assistant", "content": f"⚠️ {EMPTY_QUESTION}"})
            yield "", history, conversation, last, transcript, keep, *same_source
            return
        echo = text if len(text) <= MAX_ECHO_CHARS else text[:MAX_ECHO_CHARS] + "…"
        history.append({"role": "user", "content": esc(echo)})
        history.append({"role": "assistant", "content": SEARCHING})
        yield "", history, conversation, last, transcript, keep, *same_source
        answer: Answer | None = None
        streamed = False
        try:
            for item in self._answers(text, resolve_plan(self.assistant.plans, plan), conversation):
                if isinstance(item, Answer):
                    answer = item
                elif item:
                    streamed = True  # the engine streams: show its text as it comes
                    history[-1] = {"role": "assistant", "content": esc(item) + " ▌"}
                    yield keep, history, conversation, last, transcript, keep, *same_source
            if answer is None:
                raise RuntimeError("the answer stream ended without an Answer")
        except InvalidQuestion as exc:
            history[-1] = {"role": "assistant", "content": f"⚠️ {esc(exc)}"}
            yield keep, history, conversation, last, transcript, keep, *same_source
            return
        except Exception:  # never show a traceback in the chat
            logger.exception("answering failed")
            history[-1] = {"role": "assistant", "content": f"⚠️ {INTERNAL_ERROR}"}
            yield keep, history, conversation, last, transcript, keep, *same_source
            return
        if not streamed:  # a whole answer at once: reveal it in growing pieces
            for partial in _chunks(answer.text):
                history[-1] = {"role": "assistant", "content": esc(partial) + " ▌"}
                yield keep, history, conversation, last, transcript, keep, *same_source
                if self.stream_delay:
                    time.sleep(self.stream_delay)
        history[-1] = {"role": "assistant", "content": answer_to_markdown(answer, self.assistant.plans)}
        transcript.append(answer)
        yield keep, history, conversation, answer, transcript, self._chips(answer), *self._source(answer)

    def show_source(self, choice: str | None, last: Answer | None) -> tuple[Any, ...]:
        """(card, indicator, chart, series) for the chosen chip of the latest answer."""
        if last is None or choice in (None, ""):
            return empty_source()
        return self._source(last, choice)

    def export(self, transcript: list[Answer] | None) -> tuple[Any, str]:
        """Markdown file of the conversation (for gr.File) and a status line."""
        if not transcript:
            return gr.update(value=None, visible=False), NOTHING_TO_EXPORT
        try:
            path = write_conversation(transcript, self.assistant.plans)
        except OSError:
            logger.exception("export failed")
            return gr.update(value=None, visible=False), "会話を書き出せませんでした。"
        return gr.update(value=str(path), visible=True), f"{len(transcript)} 件の質問と回答を書き出しました。"

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
        """Reset chat, conversation, latest answer, transcript, chips, source panel and statuses."""
        chips = gr.update(choices=[], value=None, visible=False)
        return [], None, None, [], chips, *empty_source(), "", gr.update(value=None, visible=False)


# Scroll the newest question to the top of the chat, so a long answer starts in view
# (Gradio's own autoscroll keeps the bottom in view instead).
SCROLL_TO_ANSWER = """
() => {
  const log = document.querySelector('#chatbot [role="log"]') || document.querySelector('#chatbot .bubble-wrap');
  const asked = document.querySelectorAll('#chatbot .message-row.user-row, #chatbot .user-row');
  const latest = asked[asked.length - 1];
  if (log && latest) { log.scrollTop += latest.getBoundingClientRect().top - log.getBoundingClientRect().top - 8; }
  const chat = document.querySelector('#chatbot');
  if (chat && chat.getBoundingClientRect().top < 0) { chat.scrollIntoView({block: 'start'}); }
}
"""
SCROLL_TO_CARD = """
() => {
  const card = document.querySelector('#source-card');
  if (card && window.innerWidth < 768) { card.scrollIntoView({block: 'start', behavior: 'smooth'}); }
}
"""


def build_chat_tab(controller: ChatController, concurrency_id: str) -> SourcePanel:
    """Lay out the チャット tab inside the current gr.Tab and wire its events."""
    conversation = gr.State(None)
    last = gr.State(None)
    transcript = gr.State([])
    with gr.Row(elem_id="chat-row", equal_height=False):
        with gr.Column(scale=3, min_width=320, elem_classes=["chat-column"]):
            chatbot = gr.Chatbot(
                label="回答",
                height="68vh",
                min_height=360,
                elem_id="chatbot",
                feedback_options=None,
                buttons=["copy"],
                autoscroll=False,
                placeholder="大分市・延岡市のDX計画について質問してください。回答には根拠の施策番号が付きます。",
            )
            chips = gr.Radio([], label="根拠（選ぶと原文とKPIのグラフを表示）", visible=False, elem_id="citations",
                             elem_classes=["source-chips"])
            with gr.Row(elem_id="ask-row"):
                question = gr.Textbox(
                    label="質問", show_label=False, placeholder="例：公式アプリの2026年度の目標は？",
                    scale=5, elem_id="question", submit_btn=False, lines=1, max_lines=4,
                )
                send = gr.Button("送信", variant="primary", scale=1, min_width=72, elem_id="send")
            with gr.Row(elem_id="examples"):
                example_buttons = [gr.Button(q, size="sm", elem_classes=["example-question"]) for q in EXAMPLES]
            with gr.Row(elem_id="chat-tools"):
                plan = gr.Radio(controller.plan_choices(), value=BOTH, label="対象の計画", elem_id="plan-select")
            with gr.Row():
                clear = gr.Button("会話をクリア", size="sm", elem_id="clear")
                export = gr.Button("会話をMarkdownで保存", size="sm", elem_id="export")
            export_status = gr.Markdown("", elem_id="export-status")
            export_file = gr.File(label="会話の記録（Markdown）", interactive=False, visible=False, elem_id="export-file")
        with gr.Column(scale=2, min_width=320, elem_classes=["source-column"]):
            panel = build_source_panel("")
            with gr.Group(elem_id="feedback"):
                comment = gr.Textbox(label="コメント（任意）", lines=2, max_lines=6, elem_id="feedback-comment")
                with gr.Row():
                    good = gr.Button("👍 役に立った", size="sm", elem_id="feedback-good")
                    bad = gr.Button("👎 役に立たなかった", size="sm", elem_id="feedback-bad")
                status = gr.Markdown("", elem_id="feedback-status")

    answer_io = dict(
        fn=controller.respond,
        inputs=[question, plan, chatbot, conversation, last, transcript],
        outputs=[question, chatbot, conversation, last, transcript, chips, *panel.outputs],
        api_visibility="private",
        concurrency_id=concurrency_id,
    )
    # one event for both triggers: trigger_mode="once" ignores a second send while an answer streams
    asked = gr.on([send.click, question.submit], trigger_mode="once", **answer_io)
    asked.then(None, js=SCROLL_TO_ANSWER)
    for button, text in zip(example_buttons, EXAMPLES, strict=True):
        button.click(lambda t=text: t, None, question, queue=False, api_visibility="private").then(
            **answer_io).then(None, js=SCROLL_TO_ANSWER)
    chips.input(controller.show_source, [chips, last], panel.outputs, api_visibility="private", queue=False).then(
        None, js=SCROLL_TO_CARD)
    export.click(controller.export, [transcript], [export_file, export_status], api_visibility="private")
    for trigger in (clear.click, chatbot.clear):  # the button and the chatbot's own 🗑
        trigger(
            controller.clear, None,
            [chatbot, conversation, last, transcript, chips, *panel.outputs, status, export_file],
            api_visibility="private", queue=False,
        )
    for button, rating in ((good, 1), (bad, -1)):
        button.click(
            lambda c, a, r=rating: controller.rate(r, c, a), [comment, last], [status, comment],
            api_visibility="private", queue=False,
        )
    return panel
