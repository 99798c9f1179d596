"""The ``/ask`` API endpoint (gr.api).

No ``from __future__ import annotations`` here: Gradio reads the real type hints
of the endpoint function to describe it in the API docs.
"""

import logging
from collections.abc import Callable

from assistant.types import InvalidQuestion
from ui.chat import EMPTY_QUESTION, INTERNAL_ERROR, AssistantLike, resolve_plan
from ui.render import answer_to_api

logger = logging.getLogger(__name__)


def make_ask_api(assistant: AssistantLike) -> Callable[..., dict]:
    """The function behind ``/ask``: (question, plan) → answer dict or {"error": message}."""

    def ask(question: str, plan: str | None = None) -> dict:
        """質問に答え、回答と根拠（計画・施策番号・引用）を返す。plan: oita / nobeoka / 大分市 / 延岡市 / 省略で両方。"""
        if not isinstance(question, str) or not question.strip():
            return {"error": EMPTY_QUESTION}
        try:
            answer = assistant.ask(question, plan=resolve_plan(assistant.plans, plan))
        except InvalidQuestion as exc:
            return {"error": str(exc)}
        except Exception:
            logger.exception("/ask failed")
            return {"error": INTERNAL_ERROR}
        return answer_to_api(answer, assistant.plans)

    return ask
