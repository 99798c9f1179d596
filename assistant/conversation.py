"""Conversation state for follow-up questions (「それっていつから？」「じゃあ延岡市は？」).

Each turn leaves a :class:`Focus` behind — the plans, measure or section, the
asked fields and years, and the topic text — after answers, section answers and
refusals alike; the next question inherits it and overrides only what it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.types import Answer

TOPIC_CHARS = 200  # the inherited topic text stays short: a chain of follow-ups does not grow it


@dataclass(frozen=True)
class Focus:
    plans: tuple[str, ...] = ()
    measures: tuple[tuple[str, int], ...] = ()  # (plan, number)
    sections: tuple[tuple[str, str], ...] = ()  # (plan, section key) for narrative answers
    asks: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    units: tuple[str, ...] = ()  # counters asked (何橋, 何人): 「全部でどれだけ？」 counts the same way
    topic: str = ""  # the text retrieval read for that turn
    figures: tuple[str, ...] = ()  # the numbers the answer stated (「そのうち何橋？」 is not one of them)
    rows: tuple[str, ...] = ()  # ids of the milestone rows the answer read (「次の年は何回？」 reads the same row)


@dataclass
class Conversation:
    turns: list[Answer] = field(default_factory=list)
    foci: list[Focus] = field(default_factory=list)
    max_turns: int = 20

    def add(self, answer: Answer, focus: Focus | None = None) -> None:
        """Record a turn; without a focus (a turn rebuilt from a chat history), the answer's
        citations and question stand in for it."""
        self.turns.append(answer)
        self.foci.append(focus or focus_of(answer))
        del self.turns[: -self.max_turns]
        del self.foci[: -self.max_turns]

    @property
    def focus(self) -> Focus | None:
        """The latest turn's focus (None before the first turn)."""
        return self.foci[-1] if self.foci else None

    def last_measures(self) -> list[tuple[str, str]]:
        """(plan, measure) pairs cited by the latest answer that cited a measure."""
        for answer in reversed(self.turns):
            cited = [(c.plan, c.measure) for c in answer.citations if c.measure]
            if cited:
                return list(dict.fromkeys(cited))
        return []


def focus_of(answer: Answer) -> Focus:
    measures = tuple(dict.fromkeys((c.plan, int(c.measure)) for c in answer.citations
                                   if c.measure and str(c.measure).isdigit()))
    plans = tuple(dict.fromkeys(c.plan for c in answer.citations))
    return Focus(plans=plans, measures=measures, topic=trim_topic(answer.question or ""))


def trim_topic(text: str) -> str:
    return text[-TOPIC_CHARS:]
