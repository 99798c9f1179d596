"""Input checks shared by every path (Python API, CLI, UI, /ask)."""

from __future__ import annotations

import re
import unicodedata

from assistant.types import InvalidQuestion

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")


def clean_question(question: object, max_chars: int) -> str:
    """Return a safe question string or raise InvalidQuestion with a Japanese message."""
    if not isinstance(question, str):
        raise InvalidQuestion("質問は文字列で入力してください。")
    if len(question) > max_chars * 4:
        raise InvalidQuestion(f"質問が長すぎます（{len(question)} 文字）。{max_chars} 文字以内で入力してください。")
    text = _CONTROL.sub(" ", question)
    text = _SCRIPT.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise InvalidQuestion("質問が空です。計画について知りたいことを入力してください（例: 公式アプリの2026年度の目標は？）。")
    if len(text) > max_chars:
        raise InvalidQuestion(f"質問が長すぎます（{len(text)} 文字）。{max_chars} 文字以内で入力してください。")
    if not any(unicodedata.category(ch)[0] in "LN" for ch in text):
        raise InvalidQuestion("質問の内容を読み取れませんでした。文章で入力してください（例: 橋の点検ってどう変わるの？）。")
    return text
