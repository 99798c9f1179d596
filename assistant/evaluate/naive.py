"""The baseline a user would otherwise build with LangChain, for ``planqa eval --compare``.

Raw plan text → ``RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)``
→ an in-memory Chroma collection (same embeddings object, so chunk vectors come
from its content-hash cache) → top 4 by similarity. No structure, no refusal:
the "answer" is the top chunk (truncated), and it shows one source.

The baseline knows nothing about measures, so for scoring only each chunk is
mapped to the measure whose parsed text shares the most character bigrams
with it (:func:`map_chunk`); chunks that match no measure well map to None.
"""

from __future__ import annotations

import threading
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from assistant.types import Answer, Citation, Retrieved
from ingest.records import Measure

__all__ = ["ANSWER_CHARS", "MIN_OVERLAP", "NaiveAssistant", "NaiveChunk", "bigrams", "map_chunk", "measure_text"]

CHUNK_SIZE = 500
CHUNK_OVERLAP = 50
TOP_K = 4
ANSWER_CHARS = 300
MIN_OVERLAP = 0.6  # share of a chunk's bigrams found in the measure's text (generic intro text reaches ~0.55)


@dataclass
class NaiveChunk:
    plan: str
    text: str
    measure: str | None = None
    title: str = ""


def bigrams(text: str) -> Counter[str]:
    """Character bigrams of ``text`` after NFKC, whitespace removed."""
    clean = "".join(unicodedata.normalize("NFKC", text).split())
    return Counter(clean[i : i + 2] for i in range(len(clean) - 1))


def measure_text(measure: Measure) -> str:
    """Everything a measure's record says, joined: the text it was parsed from, roughly."""
    parts = [measure.title, measure.overview, measure.goal_state, measure.background]
    for action in measure.actions:
        parts += [action.title, action.area, action.text, action.period, *action.departments]
    parts += [kpi.text for kpi in measure.kpis]
    if measure.final_goal:
        parts += [measure.final_goal.text, measure.final_goal.target_year_text]
    parts += measure.key_projects
    return "\n".join(p for p in parts if p)


def map_chunk(text: str, measures: Mapping[str, Counter[str]], min_overlap: float = MIN_OVERLAP) -> str | None:
    """Key of the measure whose bigrams cover most of the chunk's; None below ``min_overlap``."""
    grams = bigrams(text)
    total = sum(grams.values())
    if not total:
        return None
    best_key, best = None, 0
    for key, measure_grams in measures.items():
        overlap = sum((grams & measure_grams).values())
        if overlap > best:
            best_key, best = key, overlap
    return best_key if best / total >= min_overlap else None


class NaiveAssistant:
    """``ask()`` like :class:`assistant.service.Assistant`; builds its index on first use."""

    def __init__(self, settings, embeddings=None):
        if embeddings is None:
            from ingest.pipeline import build_embeddings

            embeddings = build_embeddings(settings)
        self.settings = settings
        self.embeddings = embeddings
        self._store = None
        self._chunks: dict[str, NaiveChunk] = {}
        self._lock = threading.Lock()

    def _build(self):
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from ingest.load import load_manifest, read_plan_text
        from ingest.pipeline import parse_plans

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        parsed = {p.info.id: p for p in parse_plans(self.settings)}
        chunks: list[NaiveChunk] = []
        for info in load_manifest(self.settings.manifest_path):
            plan = parsed.get(info.id)
            grams = {str(m.number): bigrams(measure_text(m)) for m in plan.measures} if plan else {}
            titles = {str(m.number): m.title for m in plan.measures} if plan else {}
            for text in splitter.split_text(read_plan_text(info, self.settings.data_dir)):
                number = map_chunk(text, grams)
                chunks.append(NaiveChunk(info.id, text, number, titles.get(number or "", "")))
        return self._index(chunks)

    def _index(self, chunks: Iterable[NaiveChunk]):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        from vectorstore.store import vector_store

        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        store = vector_store(client, f"naive-{uuid.uuid4().hex[:12]}", self.embeddings)
        self._chunks = {}
        ids, texts = [], []
        for i, chunk in enumerate(chunks):
            ids.append(f"c{i}")
            texts.append(chunk.text)
            self._chunks[ids[-1]] = chunk
        for start in range(0, len(ids), 64):
            store.add_texts(texts[start : start + 64], ids=ids[start : start + 64])
        return store

    @property
    def store(self):
        with self._lock:
            if self._store is None:
                self._store = self._build()
            return self._store

    def warm_up(self) -> None:
        _ = self.store
        self.embeddings.embed_query("ウォームアップ")

    def ask(self, question: str, plan: str | None = None, conversation=None) -> Answer:
        """Top chunk as the answer, its measure as the one citation; never refuses."""
        started = time.perf_counter()
        docs = self.store.similarity_search_with_score(question, k=TOP_K)
        top = [(self._chunks[doc.id], score) for doc, score in docs if doc.id in self._chunks]
        retrieved = [
            Retrieved(c.plan, c.measure, round(1 - float(score), 5), c.title, "chunk", c.text[:200]) for c, score in top
        ]
        text = top[0][0].text[:ANSWER_CHARS] if top else ""
        citations = []
        if top and top[0][0].measure is not None:
            first = top[0][0]
            citations.append(Citation(first.plan, first.measure, first.title, "chunk", first.text[:200]))
        answer = Answer(question, text, citations, refused=False, retrieved=retrieved, backend="naive")
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        return answer
