"""Conversation export: the questions, answers and sources (with quotes and measure
numbers) of a chat as one Markdown document, for pasting into a report."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from assistant.types import Answer
from ingest.records import PlanInfo
from ui.render import field_name, source_groups

TITLE = "自治体DX計画アシスタント 会話の記録"


def export_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "planqa-ui"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip().split("\n"))


def conversation_markdown(
    answers: Iterable[Answer], plans: Mapping[str, PlanInfo] | None = None, when: datetime | None = None
) -> str:
    """Markdown of the conversation: per turn the question, the answer and its sources."""
    when = when or datetime.now()
    lines = [f"# {TITLE}", "", f"書き出し日時: {when:%Y-%m-%d %H:%M}"]
    if plans:
        lines.append("対象の計画: " + "、".join(f"{p.city}「{p.title}」" for p in plans.values()))
    count = 0
    for count, answer in enumerate(answers, 1):
        lines += ["", f"## 質問 {count}", "", _quoted(answer.question), "", "### 回答", "", answer.text.strip()]
        if answer.notice:
            lines += ["", f"※ {answer.notice}"]
        groups = source_groups(answer.citations, plans)
        if groups:
            lines += ["", "### 根拠"]
            for group in groups:
                lines += ["", f"- **{group.label}**（{'・'.join(group.fields)}）"]
                for c in group.citations:
                    if c.quote:
                        lines.append(f"  - {field_name(c.field, c.quote)}：「{' '.join(c.quote.split())}」")
    if count == 0:
        lines += ["", "（まだ質問がありません）"]
    return "\n".join(lines) + "\n"


def write_conversation(answers: Iterable[Answer], plans: Mapping[str, PlanInfo] | None = None) -> Path:
    """Write the Markdown export to a temporary file; returns its path (for gr.File)."""
    path = export_dir() / f"planqa-conversation-{stamp()}.md"
    path.write_text(conversation_markdown(answers, plans), encoding="utf-8")
    return path
