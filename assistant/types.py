"""The answer object every interface returns (Python API, CLI, batch, UI, /ask)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Citation:
    """A measure (or section) the answer rests on, with the quoted passage."""

    plan: str  # plan id: oita | nobeoka
    measure: str | None  # measure / 重点方針 number as a string; None for sections
    title: str
    field: str  # overview | action | background | kpi | final_goal | goal_state | section ...
    quote: str
    label: str = ""  # display name: 大分市 No.3 公式アプリの機能拡充


@dataclass
class Retrieved:
    plan: str
    measure: str | None
    score: float
    title: str = ""
    field: str = ""
    text: str = ""
    chunk_id: str = ""


@dataclass
class Answer:
    question: str
    text: str  # the whole answer; starts with ``lead``
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    retrieved: list[Retrieved] = field(default_factory=list)
    intent: str = ""
    backend: str = "extractive"
    latency_ms: float = 0.0
    notice: str = ""  # shown to the user: input was cleaned, fallback used, ...
    lead: str = ""  # the direct answer: the sentence(s) that state the asked facts
    evidence: list[dict[str, Any]] = field(default_factory=list)  # the facts picked, with their score parts

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class InvalidQuestion(ValueError):
    """A question that cannot be answered as given; the message is Japanese and user-facing."""
