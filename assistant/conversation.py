"""Conversation state for follow-up questions (「それの2025年度は？」)."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.types import Answer


@dataclass
class Conversation:
    turns: list[Answer] = field(default_factory=list)
    max_turns: int = 20

    def add(self, answer: Answer) -> None:
        self.turns.append(answer)
        del self.turns[: -self.max_turns]

    def last_measures(self) -> list[tuple[str, str]]:
        """(plan, measure) pairs cited by the latest answer that cited a measure."""
        for answer in reversed(self.turns):
            cited = [(c.plan, c.measure) for c in answer.citations if c.measure]
            if cited:
                return list(dict.fromkeys(cited))
        return []
