"""The entry point: ``build_assistant(settings).ask(question)`` → :class:`Answer`.

retrieve → choose the measures → compose (extractive) or generate (LLM) →
verify citations and numbers. Everything heavy is built lazily in the factory,
nothing at import.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from assistant.conversation import Conversation
from assistant.extractive import Composer
from assistant.guard import clean_question
from assistant.query import Query, analyse
from assistant.refusal import (
    absent_counter,
    absent_kind,
    absent_metric,
    absent_topic,
    no_overlap,
    unknown_places,
    weak_evidence,
)
from assistant.rerank import boost_kpi_match, boost_literal, boost_rare_words
from assistant.retrieve import MeasureHit, Retriever
from assistant.settings import Settings
from assistant.streaming import stream_answer
from assistant.types import Answer, Citation, InvalidQuestion, Retrieved
from ingest.records import Measure, PlanInfo
from vectorstore.keyword import content_words, expand_words, idf_weight, tokenize
from vectorstore.snapshot import Snapshot, load_snapshot
from vectorstore.store import CURRENT

log = logging.getLogger("planqa")

DENSE_FLOOR = 0.45  # calibrated on the golden set (planqa eval)
KEYWORD_FLOOR = 12.0
STRONG_DENSE = 0.62  # above this, a close meaning answers even with no shared word (ChatGPT → 生成AI)
CLOSE_RATIO = 0.75  # a second plan's best measure joins the answer when this close
RUNNER_UP_RATIO = 0.95  # a same-plan second measure this close is shown too (what-questions)
SECTION_MARGIN = 0.85  # a measure this close to a top-ranked section answers instead

REFUSAL_HEAD = "計画にはその記載がありません。"
PLAN_PERIOD = re.compile(r"(計画期間|計画の期間|(計画|プラン)[^。？?]{0,20}(いつから|いつまで|何年度まで|期間))")


class Assistant:
    def __init__(self, settings: Settings, embeddings, backend=None, retrieval_mode: str = "hybrid"):
        self.settings = settings
        self.embeddings = embeddings
        self.backend = backend  # None = extractive only
        self.retrieval_mode = retrieval_mode
        self._snapshot: Snapshot | None = None
        self._pointer_mtime: int | None = None
        self._lock = threading.Lock()

    # --- index -----------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """Current index; reloaded when ``planqa ingest`` publishes a new one."""
        pointer = Path(self.settings.index_dir) / CURRENT
        try:
            stamp = pointer.stat().st_mtime_ns
        except OSError:
            stamp = None
        with self._lock:
            if self._snapshot is None or stamp != self._pointer_mtime:
                self._snapshot = load_snapshot(self.settings.index_dir, self.embeddings, self.settings.chroma_url)
                self._pointer_mtime = stamp
                self._corpus = "\n".join(c.text for c in self._snapshot.chunks)
                self._measure_chunks: dict[tuple[str, str], list] = {}
                for chunk in self._snapshot.chunks:
                    if chunk.measure:
                        self._measure_chunks.setdefault((chunk.plan, chunk.measure), []).append(chunk)
                self._measure_texts = {key: "\n".join(c.text for c in chunks)
                                       for key, chunks in self._measure_chunks.items()}
            return self._snapshot

    @property
    def plans(self) -> dict[str, PlanInfo]:
        return {pid: p.info for pid, p in self.snapshot.plans.items()}

    def measures(self, plan: str | None = None) -> list[Measure]:
        return [m for pid, p in self.snapshot.plans.items() if plan in (None, pid) for m in p.measures]

    def measure(self, plan: str, number: int) -> Measure | None:
        parsed = self.snapshot.plans.get(plan)
        return parsed.measure(number) if parsed else None

    def warm_up(self) -> None:
        _ = self.snapshot
        self.embeddings.embed_query("ウォームアップ")

    # --- asking ----------------------------------------------------------
    def ask(self, question: str, plan: str | None = None, conversation: Conversation | None = None) -> Answer:
        started = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        snap = self.snapshot
        if plan and plan not in snap.plans and plan != "both":
            raise InvalidQuestion(f"計画 ID「{plan}」はありません（ある ID: {', '.join(snap.plans)}）。")
        query = analyse(text, self.plans, snap.known_measures(), None if plan == "both" else plan)
        if plan == "both":
            query.plans = list(snap.plans)
        answer = self._answer(query, conversation)
        answer.question = question
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        if conversation is not None:
            conversation.add(answer)
        return answer

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
        snap = self.snapshot
        if plan and plan not in snap.plans:
            raise InvalidQuestion(f"計画 ID「{plan}」はありません（ある ID: {', '.join(snap.plans)}）。")
        return self._search(analyse(text, self.plans, snap.known_measures(), plan))[0]

    def _answer(self, query: Query, conversation: Conversation | None) -> Answer:
        snap = self.snapshot
        composer = Composer(snap.plans, self._measure_chunks, self._rarity)
        if not query.measures:
            query.measures = self._titles_in(query)
            if query.measures and not query.plans:
                query.plans = list(dict.fromkeys(p for p, _ in query.measures))
        if query.follow_up and not query.measures and conversation:
            query.measures = [(p, int(n)) for p, n in conversation.last_measures()]
            query.plans = query.plans or list(dict.fromkeys(p for p, _ in query.measures))
        if query.injection and len(tokenize(query.text)) < 2:
            return self._refuse(query, "計画の内容についてのご質問にお答えします。指示の変更やシステム設定の開示には応じられません。", [])
        if query.unknown_measures and not query.measures:
            return self._refuse(query, self._unknown_measure_message(query), [])
        places = unknown_places(query.text, self._corpus)
        if places:
            msg = f"{'、'.join(places)}についての記載は、この計画（{'・'.join(i.city for i in self.plans.values())}）にはありません。"
            return self._refuse(query, msg, self._search(query)[0])
        ranked, max_dense, max_keyword = self._search(query)
        if not query.measures and PLAN_PERIOD.search(query.text):
            return self._plan_period(query, ranked)
        targets = self._targets(query, ranked)
        evidence = "\n".join(h.chunk.embed_text for t in targets[:2] for h in t.hits)
        missing_metric = absent_metric(query.text, self._corpus) if query.intent == "kpi" else None
        if missing_metric:
            return self._refuse(query, f"{REFUSAL_HEAD}（「{missing_metric}」は計画に出てきません）", ranked)
        on_measures = bool(targets) and targets[0].measure is not None and query.intent != "survey"
        counter = absent_counter(query.text, self._whole_text(targets[:2])) if on_measures else None
        if counter:
            return self._refuse(query, f"{REFUSAL_HEAD}（{counter}の数で示した値は計画に書かれていません）", ranked)
        topic = absent_topic(query.text, self._corpus, self.snapshot.keyword.vocab) if not query.measures else []
        if topic and max_dense < STRONG_DENSE:
            return self._refuse(query, f"{REFUSAL_HEAD}（{''.join(f'「{t}」' for t in topic)}についての記載は計画にありません）", ranked)
        kind = absent_kind(query.text, evidence)
        if kind.refuse:
            return self._refuse(query, f"{REFUSAL_HEAD}（{kind.reason}は計画に書かれていません）", ranked)
        if not query.measures and (
            weak_evidence(max_dense, max_keyword, DENSE_FLOOR, KEYWORD_FLOOR)
            or (max_dense < STRONG_DENSE and no_overlap(query.text, evidence))
        ):
            return self._refuse(query, REFUSAL_HEAD, ranked)
        answer = self._compose(query, targets, composer, ranked)
        answer.retrieved = self._retrieved(ranked)
        if self.backend is not None and not answer.refused:
            answer = self.backend.rewrite(query, answer, targets, snap)
        return answer

    # --- steps -----------------------------------------------------------
    def _rarity(self, word: str) -> float:
        """How much a question word says: its IDF in the keyword index (capped)."""
        return min(idf_weight(self.snapshot.keyword, f"w:{word}"), 6.0)

    def _whole_text(self, targets: list[MeasureHit]) -> str:
        """All chunks of the target measures (sections: the retrieved chunks)."""
        texts = []
        for t in targets:
            whole = self._measure_texts.get((t.plan, t.measure), "") if t.measure else ""
            texts.append(whole or "\n".join(h.chunk.text for h in t.hits))
        return "\n".join(texts)

    def _titles_in(self, query: Query) -> list[tuple[str, int]]:
        """A question that quotes a measure's title goes straight to it (longest title wins)."""
        found = []
        for pid, plan in self.snapshot.plans.items():
            if query.plans and pid not in query.plans:
                continue
            for m in plan.measures:
                title = re.sub(r"[（(].*?[）)]", "", m.title).strip()
                if len(title) >= 6 and title in query.text:
                    found.append((len(title), (pid, m.number)))
        return [max(found)[1]] if found else []

    def _search(self, query: Query) -> tuple[list[MeasureHit], float, float]:
        """Ranked measures plus the best dense and keyword scores (returned, not stored:
        the assistant serves concurrent questions)."""
        result = Retriever(self.snapshot, self.embeddings, self.retrieval_mode).search(query)
        ranked = boost_literal(result.measures, query.text)
        ranked = boost_rare_words(ranked, content_words(query.text), self._rarity,
                                  lambda h: self._whole_text([h]))
        if query.intent == "kpi":
            ranked = boost_kpi_match(ranked, query.text, self.measure)
        if query.measures:  # routed measures first
            routed = [(p, str(n)) for p, n in query.measures]
            front = [next((h for h in ranked if (h.plan, h.measure) == r), None) or MeasureHit(r[0], r[1], "", 1.0)
                     for r in routed]
            ranked = front + [h for h in ranked if (h.plan, h.measure) not in routed]
        return ranked, result.max_dense, result.max_keyword

    def _plan_period(self, query: Query, ranked: list[MeasureHit]) -> Answer:
        """Questions about a whole plan's period are answered from the plan list (manifest)."""
        infos = [self.plans[p] for p in (query.plans or list(self.plans))]
        lines = [f"{i.city}の「{i.title}」の計画期間は {i.period} です。" for i in infos if i.period]
        cites = [Citation(i.id, None, i.title, "plan", i.period, f"{i.city} {i.title}") for i in infos if i.period]
        if not lines:
            return self._refuse(query, REFUSAL_HEAD, ranked)
        return Answer(query.raw, "\n".join(lines), cites, intent="period", retrieved=self._retrieved(ranked))

    def _section_kind(self, hit: MeasureHit) -> str:
        chunk = hit.hits[0].chunk if hit.hits else None
        plan = self.snapshot.plans.get(hit.plan)
        if chunk is None or plan is None:
            return ""
        if chunk.field == "glossary":
            return "glossary"
        return next((s.kind for s in plan.sections if s.key == chunk.section), "")

    def _targets(self, query: Query, ranked: list[MeasureHit]) -> list[MeasureHit]:
        if query.measures:
            return ranked[: len(query.measures)]
        # A section answers survey and glossary questions, or any question where it
        # clearly beats every measure; the milestone summary only repeats measures.
        pool = [h for h in ranked if h.measure is not None or self._section_kind(h) != "milestones"]
        if not pool:
            return []
        sections_first = query.intent == "survey" or (query.intent == "glossary" and self._glossary_term(query) is not None)
        if sections_first:
            sections = [h for h in pool if h.measure is None]
            pool = [h for h in sections if self._section_kind(h) == query.intent] or sections or pool
        top = pool[0]
        if top.measure is None and not sections_first:
            best_measure = next((h for h in pool if h.measure is not None), None)
            if best_measure and best_measure.score >= SECTION_MARGIN * top.score:
                top = best_measure
        if top.measure is None:
            return [top]
        targets = [top]
        runner_up = next((h for h in pool if h is not top and h.measure is not None), None)
        if (runner_up and runner_up.plan == top.plan and query.intent in ("what",)
                and runner_up.score >= RUNNER_UP_RATIO * top.score):
            targets.append(runner_up)  # two near-equal candidates: show both rather than guess
        multi_plan = len(query.plans) != 1 and (query.intent == "compare" or len(query.plans) > 1 or not query.plan_named)
        if multi_plan:
            other = next((h for h in pool if h.plan != top.plan and h.measure is not None), None)
            needs_both = query.intent == "compare" or len(query.plans) > 1
            if other and (needs_both or other.score >= CLOSE_RATIO * top.score):
                targets.append(other)
        return targets

    def _section_chunks(self, target: MeasureHit, ranked: list[MeasureHit]) -> list:
        """Candidate chunks for a section answer: the retrieved ones first, then every
        other chunk of the same kind of section in that plan (surveys are small)."""
        kind = self._section_kind(target)
        near = [h for h in ranked[:8] if h.measure is None and h is not target
                and self._section_kind(h) not in ("milestones", "glossary")]
        same = [h for h in near if self._section_kind(h) == kind][:3]
        other = [h for h in near if h not in same][:2] if kind != "survey" else []  # 「KGIは？」: the KGI part
        first = [hit.chunk for g in [target] + same + other for hit in g.hits]
        plan = self.snapshot.plans[target.plan]
        keys = {sec.key for sec in plan.sections if sec.kind == kind} if kind else set()
        rest = [c for c in self.snapshot.chunks if c.plan == target.plan and c.measure is None
                and c.section in keys and c not in first]
        return first + rest

    def _compose(self, query: Query, targets: list[MeasureHit], composer: Composer,
                 ranked_all: list[MeasureHit] | None = None) -> Answer:
        ranked_all = ranked_all or targets
        parts: list[str] = []
        citations: list[Citation] = []
        terms = expand_words(content_words(query.text))
        term = self._glossary_term(query) if query.intent == "glossary" else None
        if term is not None:
            text, cites = composer.glossary(term)
            used = self._term_in_measures(term, ranked_all)
            if used is not None:
                measure, chunk, sentence = used
                text += f"\nこの語は{composer.name(measure)}に出てきます: 「{sentence}」"
                cites.append(composer.cite(measure, chunk.field, sentence))
            return Answer(query.raw, text, cites, intent=query.intent, notice=self._notice(query))
        drafts = []
        for target in targets:
            if target.measure is None:
                drafts.append((*composer.section(self._section_chunks(target, ranked_all), terms, query.text), []))
                continue
            measure = self.measure(target.plan, int(target.measure))
            if measure is not None:
                drafts.append(composer.for_intent(measure, query, target, terms) + (measure,))
        # With several measures, keep those that have the asked year.
        if len(drafts) > 1 and any(not d[2] for d in drafts):
            drafts = [d for d in drafts if not d[2]]
        for draft in drafts:
            text, cites, missing = draft[:3]
            if missing and len(draft) > 3 and not cites:
                parts.append(self._missing_year_text(draft[3], missing, composer))
                continue
            if missing and len(draft) > 3:
                text = self._missing_year_text(draft[3], missing, composer) + "\n" + text
            parts.append(text)
            citations += cites
        if not citations:
            return Answer(query.raw, "\n\n".join(parts) or REFUSAL_HEAD, [], refused=True, intent=query.intent)
        return Answer(query.raw, "\n\n".join(parts), _dedupe(citations), intent=query.intent,
                      notice=self._notice(query))

    def _term_in_measures(self, term, ranked: list[MeasureHit]):
        """The best-ranked measure of the term's plan whose text uses the glossary term,
        with the sentence that does (so 「EBPMって何？」 also says where the plan uses it)."""
        name = re.split(r"[（(]", term.term)[0].strip()
        for hit in ranked:
            if hit.plan != term.plan or hit.measure is None:
                continue
            for chunk in self._measure_chunks.get((hit.plan, hit.measure), []):
                for sentence in re.split(r"(?<=。)|\n", chunk.text):
                    if name and name in sentence and len(sentence.strip()) >= 8:
                        measure = self.measure(hit.plan, int(hit.measure))
                        if measure is not None:
                            return measure, chunk, sentence.strip(" ・")[:160]
        return None

    def _glossary_term(self, query: Query):
        """The glossary entry the question names (longest match), if any."""
        found = []
        for pid, plan in self.snapshot.plans.items():
            if query.plans and pid not in query.plans:
                continue
            for term in plan.glossary:
                names = {term.term, re.split(r"[（(]", term.term)[0].strip()}
                if any(len(n) >= 2 and n in query.text for n in names):
                    found.append((max(len(n) for n in names if n in query.text), term))
        return max(found, key=lambda x: x[0])[1] if found else None

    def _missing_year_text(self, m: Measure, years: list[int], composer: Composer) -> str:
        have = sorted({k.year for k in m.kpis if k.year})
        asked = "、".join(f"{y}年度" for y in years)
        listed = "、".join(f"{y}年度" for y in have) or "なし"
        return f"{REFUSAL_HEAD}{composer.name(m)}のKPIで{asked}の目標は示されていません（記載がある年度: {listed}）。"

    def _notice(self, query: Query) -> str:
        if query.injection:
            return "質問に含まれていた指示文は無視し、計画についての質問として回答しました。"
        if query.unknown_measures:
            return self._unknown_measure_message(query)
        return ""

    def _unknown_measure_message(self, query: Query) -> str:
        snap = self.snapshot
        lines = []
        for pid, number in query.unknown_measures:
            info = snap.plans[pid].info
            nums = sorted(m.number for m in snap.plans[pid].measures)
            lines.append(f"{info.measure_name(number)} は計画にありません（{info.city}は {info.measure_label}{nums[0]}〜{info.measure_label}{nums[-1]}）。")
        return "".join(lines)

    def _refuse(self, query: Query, message: str, ranked: list[MeasureHit]) -> Answer:
        related = [h for h in ranked if h.measure is not None][:2]
        text = message
        if related:
            names = "、".join(f"{self.plans[h.plan].measure_name(h.measure)}（{h.title or self._title(h)}）" for h in related)
            text += f"\n関連しそうな施策: {names}"
        return Answer(query.raw, text, [], refused=True, retrieved=self._retrieved(ranked), intent=query.intent,
                      notice=self._notice(query) if query.injection else "")

    def _title(self, hit: MeasureHit) -> str:
        m = self.measure(hit.plan, int(hit.measure)) if hit.measure else None
        return m.title if m else ""

    def _retrieved(self, ranked: list[MeasureHit]) -> list[Retrieved]:
        out = []
        for h in ranked[:10]:
            best = h.hits[0].chunk if h.hits else None
            out.append(Retrieved(h.plan, h.measure, round(h.score, 5), h.title or self._title(h),
                                 best.field if best else "", best.text[:200] if best else "", best.id if best else ""))
        return out


def _dedupe(citations: list[Citation]) -> list[Citation]:
    seen, out = set(), []
    for c in citations:
        key = (c.plan, c.measure, c.field, c.quote)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def build_assistant(settings: Settings, backend: str | None = None, retrieval_mode: str = "hybrid",
                    embeddings=None) -> Assistant:
    """Factory: wires embeddings, the answer backend and the index; loads nothing yet."""
    from assistant.backends import make_backend
    from ingest.pipeline import build_embeddings

    embeddings = embeddings or build_embeddings(settings)
    return Assistant(settings, embeddings, make_backend(backend or settings.backend, settings), retrieval_mode)
