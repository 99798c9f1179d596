"""Gradio front end: チャット, KPI一覧, 評価, フィードバック tabs and the ``/ask`` API.

Choices (Gradio 6):

* Streaming — the chat handler is a generator; the engine returns a whole
  answer, which is then revealed in growing chunks (``yield`` of longer text),
  with the citations and source-card hint in the final update.
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
.source-card .kpi-table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
.source-card .kpi-table th, .source-card .kpi-table td { border: 1px solid var(--border-color-primary); padding: 4px 6px; }
.source-title { margin: 0 0 4px 0; }
"""


def build_app(assistant: AssistantLike, settings: Settings) -> gr.Blocks:
    """All tabs and the ``/ask`` endpoint, queued; does not launch."""
    feedback = FeedbackStore(settings.feedback_db)
    chat = ChatController(assistant, feedback)
    kpis = KpiBrowser(assistant)
    evaluator = Evaluator(assistant)
    feedback_view = FeedbackView(feedback)
    auth = parse_auth(settings.auth)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"## {TITLE}\n計画の内容について質問すると、根拠となる施策番号（例：大分市 No.3、延岡市 重点方針5）付きで答えます。")
        authorized = gr.State(auth is None)
        with gr.Tab("チャット", id="chat"):
            build_chat_tab(chat, ANSWER_GROUP)
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
    }


def serve(settings: Settings | None = None, assistant: AssistantLike | None = None) -> None:
    """The UI together with the HTTP API on one port (see :mod:`ui.server`)."""
    from ui.server import serve as serve_all

    serve_all(settings, assistant)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(load_settings())
