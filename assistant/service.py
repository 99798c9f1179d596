"""The entry point: ``build_assistant(settings).ask(question)`` → :class:`Answer`.

The assistant holds the current index generation (reloaded when ``planqa ingest``
publishes a new one) and hands each question to the fact reader
(:mod:`assistant.reader`); an LLM backend, when configured, rewrites the answer
from the same selected facts and is verified. Everything heavy is built lazily in
the factory, nothing at import.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from assistant.conversation import Conversation
from assistant.guard import clean_question
from assistant.join import join_readings
from assistant.reader import Reader, Reading
from assistant.retrieve import MeasureHit
from assistant.settings import Settings
from assistant.streaming import stream_answer
from assistant.types import Answer, InvalidQuestion
from assistant.understand import split_questions, understand
from ingest.records import Measure, PlanInfo
from vectorstore.keyword import nouns, topic_nouns
from vectorstore.snapshot import Snapshot, load_snapshot
from vectorstore.store import CURRENT

log = logging.getLogger("planqa")


class Assistant:
    def __init__(self, settings: Settings, embeddings, backend=None, retrieval_mode: str = "hybrid"):
        self.settings = settings
        self.embeddings = embeddings
        self.backend = backend  # None = extractive only
        self.retrieval_mode = retrieval_mode
        self._snapshot: Snapshot | None = None
        self._reader: Reader | None = None
        self._pointer_mtime: int | None = None
        self._lock = threading.Lock()

    # --- index -----------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """Current index; reloaded when ``planqa ingest`` publishes a new one."""
        return self._current()[0]

    def _current(self) -> tuple[Snapshot, Reader]:
        pointer = Path(self.settings.index_dir) / CURRENT
        try:
            stamp = pointer.stat().st_mtime_ns
        except OSError:
            stamp = None
        with self._lock:
            if self._snapshot is None or self._reader is None or stamp != self._pointer_mtime:
                snapshot = load_snapshot(self.settings.index_dir, self.embeddings, self.settings.chroma_url)
                self._reader = Reader(snapshot, self.embeddings, self.retrieval_mode)
                self._snapshot = snapshot
                self._pointer_mtime = stamp
            return self._snapshot, self._reader

    @property
    def plans(self) -> dict[str, PlanInfo]:
        return {pid: p.info for pid, p in self.snapshot.plans.items()}

    def measures(self, plan: str | None = None) -> list[Measure]:
        return [m for pid, p in self.snapshot.plans.items() if plan in (None, pid) for m in p.measures]

    def measure(self, plan: str, number: int) -> Measure | None:
        parsed = self.snapshot.plans.get(plan)
        return parsed.measure(number) if parsed else None

    def warm_up(self) -> None:
        """Open the index, build the fact table's masks and load the model before the first question."""
        _, reader = self._current()
        reader.table.prepare()
        self.embeddings.embed_query("ウォームアップ")

    # --- asking ----------------------------------------------------------
    def ask(self, question: str, plan: str | None = None, conversation: Conversation | None = None) -> Answer:
        return self.read(question, plan, conversation).answer

    def read(self, question: str, plan: str | None = None, conversation: Conversation | None = None) -> Reading:
        """The answer with what it rests on (question analysis, selected facts, focus).
        Two questions in one message are answered one after the other and joined."""
        started = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        snap, reader = self._current()
        if plan and plan not in snap.plans and plan != "both":
            raise InvalidQuestion(f"計画 ID「{plan}」はありません（ある ID: {', '.join(snap.plans)}）。")
        parts = split_questions(text)
        if len(parts) > 1 and conversation is not None and conversation.focus is not None:
            whole = understand(text, reader.plans, snap.known_measures(), None if plan == "both" else plan,
                               focus=conversation.focus, topic_words=topic_nouns)
            if reader.carried_elsewhere(whole):  # 「延岡市では橋の点検は？点検数は？」: one refusal, not two parts
                parts = [text]
        if len(parts) > 1:
            scratch = Conversation(turns=list(conversation.turns), foci=list(conversation.foci)) if conversation \
                else Conversation()
            readings = [self._read_one(part, plan, scratch, snap, reader, continues=i > 0) for i, part in enumerate(parts)]
            reading = join_readings(question, readings)
        else:
            reading = self._read_one(text, plan, conversation, snap, reader, add=False)
        answer = reading.answer
        if self.backend is not None and not answer.refused and reading.selection is not None:
            answer = self.backend.rewrite(reading.question, answer, reading.selection, snap)
            reading.answer = answer
        answer.question = question
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        if conversation is not None:
            conversation.add(answer, reading.focus)
        return reading

    def _read_one(self, text: str, plan: str | None, conversation: Conversation | None, snap, reader,
                  add: bool = True, continues: bool = False) -> Reading:
        focus = conversation.focus if conversation else None
        q = self._question(text, plan, focus, snap, reader, continues)
        reading = reader.read(q)
        if (q.focus is not None and not q.follow_up and not continues and not q.measures and not q.cities_named
                and not set(q.asks) - {"what", "change", "past"} and _weak(reading)):
            # 「最初はどの分野で作ったの？」 finds nothing close on its own: it leans on the conversation after all
            reading = reader.read(self._question(text, plan, focus, snap, reader, continues=True))
        if add and conversation is not None:
            conversation.add(reading.answer, reading.focus)
        return reading

    def _question(self, text: str, plan: str | None, focus, snap, reader, continues: bool):
        """Read one question: what it pins down and asks, the conversation's focus merged in."""
        q = understand(text, reader.plans, snap.known_measures(), None if plan == "both" else plan,
                       focus=focus, topic_words=topic_nouns, continues=continues)
        if plan == "both":
            q.plans = list(snap.plans)
        if not q.measures:
            titled = self._titles_in(q.text, q.plans)
            if titled:
                q.measures, q.measures_named = titled, True
                q.plans = q.plans or list(dict.fromkeys(p for p, _ in titled))
        return q

    def stream(self, question: str, plan: str | None = None,
               conversation: Conversation | None = None) -> Iterator[str | Answer]:
        """Like :meth:`ask`, but while an LLM writes, yields the answer text so far (``str``);
        ends with the final, verified ``Answer`` (the extractive one, with a notice, when the
        LLM's text failed verification). The extractive backend yields only the Answer."""
        if self.backend is None:
            yield self.ask(question, plan, conversation)
            return
        yield from stream_answer(lambda: self.ask(question, plan, conversation))

    def search(self, question: str, plan: str | None = None) -> list[MeasureHit]:
        """Ranked measures and sections with their chunks (routing included), for PlanRetriever."""
        text = clean_question(question, self.settings.max_question_chars)
        snap, reader = self._current()
        if plan and plan not in snap.plans:
            raise InvalidQuestion(f"計画 ID「{plan}」はありません（ある ID: {', '.join(snap.plans)}）。")
        q = understand(text, reader.plans, snap.known_measures(), plan, topic_words=nouns)
        if not q.measures:
            titled = self._titles_in(q.text, q.plans)
            if titled:
                q.measures, q.measures_named = titled, True
        return reader.rank_measures(q)

    def _titles_in(self, text: str, plans: list[str]) -> list[tuple[str, int]]:
        """A question that quotes a measure's title goes straight to it (longest title wins)."""
        found = []
        for pid, parsed in self.snapshot.plans.items():
            if plans and pid not in plans:
                continue
            for m in parsed.measures:
                title = re.sub(r"[（(].*?[）)]", "", m.title).strip()
                if len(title) >= 6 and title in text:
                    found.append((len(title), (pid, m.number)))
        return [max(found)[1]] if found else []


WEAK_ALONE = 0.36  # a question in a conversation whose best fact is less close than this alone leans on the last turn


def _weak(reading: Reading) -> bool:
    ranked = reading.selection.ranked if reading.selection is not None else []
    return bool(ranked) and max(s.parts.get("dense", 0.0) for s in ranked[:5]) < WEAK_ALONE


def build_assistant(settings: Settings, backend: str | None = None, retrieval_mode: str = "hybrid",
                    embeddings=None) -> Assistant:
    """Factory: wires embeddings, the answer backend and the index; loads nothing yet."""
    from assistant.backends import make_backend
    from ingest.pipeline import build_embeddings

    embeddings = embeddings or build_embeddings(settings)
    return Assistant(settings, embeddings, make_backend(backend or settings.backend, settings), retrieval_mode)
