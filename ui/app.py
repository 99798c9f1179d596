"""Gradio front end: チャット, 比較, KPI一覧, 評価, フィードバック tabs and the ``/ask`` API.

Choices (Gradio 6):

* Streaming — the chat handler is a generator; it shows the text the engine's
  ``stream`` yields as it comes (an answer that arrives whole is revealed in
  growing chunks), then the final reply with its source chips, and opens the
  first source card with its KPI chart.
* Layout — answer first: the direct answer on top of each reply, a tall chat
  area; on a phone (CSS below 768 px) the answer, its source chips, the card and
  the chart come before the question box, the plan selector and the feedback.
* Queue — ``queue(default_concurrency_limit=settings.concurrency)`` (default 4).
  The chat and ``/ask`` share one ``concurrency_id`` so at most
  ``settings.concurrency`` questions hit the engine at once whichever way they
  come in: retrieval and embedding are CPU-bound, and more parallel calls than
  cores only make every user wait longer. Evaluation runs one at a time in its
  own group so it never starves the chat. The queue is bounded
  (:data:`QUEUE_MAX_SIZE`) so a flood of requests is refused instead of piling up.
* Auth — ``settings.auth`` protects only 評価 and フィードバック with an
  in-tab login (see :mod:`ui.tabs`); Gradio's ``launch(auth=...)`` would lock
  the whole app, but the chat, KPI一覧 and ``/ask`` are meant to stay public.
* Privacy — telemetry off (``analytics_enabled=False``), browser run history
  off, errors not sent to the browser (``show_error=False``); only the
  internal handlers' ``api_visibility`` is private, so ``/ask`` is the one
  public API endpoint.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gradio as gr

from assistant.settings import Settings, load_settings
from ui.api import make_ask_api
from ui.chat import AssistantLike, ChatController, build_chat_tab
from ui.compare_view import CompareController, build_compare_tab
from ui.feedback import FeedbackStore
from ui.tabs import (
    LOGIN_FAILED,
    Evaluator,
    FeedbackView,
    KpiBrowser,
    build_eval_tab,
    build_feedback_tab,
    build_kpi_tab,
    check_login,
    login_form,
    parse_auth,
)

logger = logging.getLogger(__name__)

TITLE = "自治体DX計画アシスタント（大分市・延岡市）"
ANSWER_GROUP = "answer"
QUEUE_MAX_SIZE = 100
LOGIN_DELAY_S = 1.0
CSS = """
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 12px; }
.source-card mark { background: #fff3a3; color: inherit; padding: 0 2px; }
.source-card .kpi-table { border-collapse: collapse; width: 100%; font-size: 0.9em; margin-bottom: 6px; }
.source-card .kpi-table th, .source-card .kpi-table td { border: 1px solid var(--border-color-primary); padding: 4px 6px; }
.source-card .source-text { white-space: pre-wrap; }
.source-card .table-scroll { overflow-x: auto; }
.source-card .milestone-table td, .source-card .milestone-table th { min-width: 6em; }
.source-card .kpi-text { padding-left: 1.2em; font-size: 0.92em; }
.source-card .source-meta { font-size: 0.92em; }
.source-title { margin: 0 0 4px 0; }
#chatbot .bot-row .message p:first-child > strong { font-size: 1.12em; line-height: 1.6; }
#chatbot .answer-backend { color: var(--body-text-color-subdued); font-size: 0.8em; }
.compare-item { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px; margin-bottom: 8px; }
.compare-item h4 { margin: 0 0 4px 0; }
.compare-item p { margin: 2px 0; font-size: 0.92em; }
.compare-key { display: inline-block; min-width: 3em; font-weight: 600; margin-right: 6px; }
.compare-weak { color: var(--body-text-color-subdued); font-size: 0.9em; }
/* phone: the answer, its source chips, the card and the chart first; the question box stays at hand */
@media (max-width: 767px) {
  #app-header p { display: none; }
  #app-header h2 { font-size: 1.1em; margin: 0; }
  #chat-row { flex-direction: column; flex-wrap: nowrap; }
  #chat-row > .column { display: contents; }
  #chat-row > .column > * { order: 20; }
  #chat-row #chatbot { order: 1; height: min(56vh, 480px) !important; }
  #chat-row > .column > .form:has(#citations) { order: 2; }
  #chat-row #source-card { order: 3; }
  #chat-row > .column > .form:has(#kpi-indicator) { order: 4; }
  #chat-row #kpi-chart { order: 5; }
  #chat-row #ask-row { order: 6; position: sticky; bottom: 0; z-index: 5; background: var(--background-fill-primary);
    padding: 6px 0; flex-wrap: nowrap; }
  #chat-row #ask-row button { min-width: 64px !important; }
}
"""
# Gradio scopes ``css`` inside its container, so the container's own overflow (hidden, which
# would stop the sticky question box on a phone) is set from <head>.
HEAD = "<style>@media (max-width: 767px) { .gradio-container { overflow: clip !important; } }</style>"


def build_app(assistant: AssistantLike, settings: Settings) -> gr.Blocks:
    """All tabs and the ``/ask`` endpoint, queued; does not launch."""
    feedback = FeedbackStore(settings.feedback_db)
    chat = ChatController(assistant, feedback)
    kpis = KpiBrowser(assistant)
    evaluator = Evaluator(assistant)
    feedback_view = FeedbackView(feedback)
    auth = parse_auth(settings.auth)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"## {TITLE}\n計画の内容について質問すると、根拠となる施策番号（例：大分市 No.3、延岡市 重点方針5）付きで答えます。",
                    elem_id="app-header")
        authorized = gr.State(auth is None)
        with gr.Tab("チャット", id="chat"):
            build_chat_tab(chat, ANSWER_GROUP)
        with gr.Tab("比較", id="compare"):
            build_compare_tab(CompareController(assistant), ANSWER_GROUP)
        with gr.Tab("KPI一覧", id="kpi") as kpi_tab:
            build_kpi_tab(kpis, kpi_tab)
        with gr.Tab("評価", id="eval"):
            eval_login = login_form(visible=auth is not None)
            with gr.Column(visible=auth is None) as eval_body:
                build_eval_tab(evaluator, authorized)
        with gr.Tab("フィードバック", id="feedback") as feedback_tab:
            fb_login = login_form(visible=auth is not None)
            with gr.Column(visible=auth is None) as fb_body:
                fb_table = build_feedback_tab(feedback_view, authorized)
        feedback_tab.select(feedback_view.recent, [authorized], fb_table, api_visibility="private", queue=False)

        def login(user: str, password: str) -> tuple[Any, ...]:
            if check_login(user, password, auth):
                shown, hidden = gr.update(visible=True), gr.update(visible=False)
                return True, hidden, hidden, shown, shown, "", "", "", "", feedback_view.recent(True)
            time.sleep(LOGIN_DELAY_S)  # slow down guessing
            same = gr.update()
            return False, same, same, same, same, LOGIN_FAILED, LOGIN_FAILED, "", "", same

        login_outputs = [
            authorized, eval_login.column, fb_login.column, eval_body, fb_body,
            eval_login.message, fb_login.message, eval_login.password, fb_login.password, fb_table,
        ]
        for form in (eval_login, fb_login):
            for trigger in (form.button.click, form.password.submit):
                trigger(login, [form.user, form.password], login_outputs, api_visibility="private")

        gr.api(make_ask_api(assistant), api_name="ask", concurrency_id=ANSWER_GROUP)

    app.queue(default_concurrency_limit=max(1, settings.concurrency), max_size=QUEUE_MAX_SIZE)
    return app


def launch_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` (host/port from settings, privacy defaults)."""
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "show_error": False,
        "run_history": False,
        "footer_links": ["api"],
        "css": CSS,
        "head": HEAD,
    }


def serve(settings: Settings | None = None, assistant: AssistantLike | None = None) -> None:
    """The UI together with the HTTP API on one port (see :mod:`ui.server`)."""
    from ui.server import serve as serve_all

    serve_all(settings, assistant)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(load_settings())
