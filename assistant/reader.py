"""The fact reader: question → facts that answer → answer.

understand (what is pinned down and asked, follow-up focus merged in) → one query
embedding → measure-level ranking of the chunks (a prior) and every fact scored
with the question's constraints → select (the facts that answer, or "not stated"
from evidence) → write (first sentence states the asked facts) → the focus this
turn leaves behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.compose import REFUSAL_HEAD, Writer
from assistant.conversation import Focus, trim_topic
from assistant.fact_search import ScoredFact, load_table, score_facts
from assistant.query import Query
from assistant.refusal import absent_kind, absent_metric, absent_topic, unknown_places
from assistant.rerank import boost_kpi_match, boost_literal, boost_rare_words
from assistant.retrieve import MeasureHit, Retriever
from assistant.select import Selection, select
from assistant.types import Answer, Retrieved
from assistant.understand import Question
from vectorstore.keyword import content_words, idf_weight

STRONG_DENSE = 0.62  # a close meaning answers even when no topic word of the question is in the plans

# Ask → the old field intents the chunk grouping favours (KPI chunks for target questions...).
_CHUNK_INTENTS = {"target": "kpi", "final": "final_goal", "department": "department", "when": "period"}


@dataclass
class Reading:
    """Everything one question produced (the answer plus what it rests on, for --json and tests)."""

    question: Question
    answer: Answer
    selection: Selection | None
    focus: Focus


class Reader:
    def __init__(self, snapshot, embeddings, retrieval_mode: str = "hybrid"):
        self.snapshot = snapshot
        self.embeddings = embeddings
        self.retrieval_mode = retrieval_mode
        self.plans = {pid: p.info for pid, p in snapshot.plans.items()}
        self.writer = Writer(self.plans)
        self.table = load_table(snapshot)
        self._corpus = "\n".join(f.text for f in snapshot.facts) + "\n" + "\n".join(c.text for c in snapshot.chunks)
        self._measure_texts: dict[tuple[str, str], str] = {}
        for f in snapshot.facts:
            if f.measure is not None:
                key = (f.plan, f.measure)
                self._measure_texts[key] = self._measure_texts.get(key, "") + "\n" + f.text

    # --- steps ---------------------------------------------------------------
    def read(self, q: Question) -> Reading:
        if q.injection and not content_words(q.text):
            text = "計画の内容についてのご質問にお答えします。指示の変更やシステム設定の開示には応じられません。"
            return self._done(q, Answer(q.raw, text, [], refused=True, lead=text), None, [])
        if q.unknown_measures and not q.measures:
            text = self.unknown_measure_message(q)
            return self._done(q, Answer(q.raw, text, [], refused=True, lead=text), None, [])
        places = unknown_places(q.text, self._corpus)
        if places:
            cities = "・".join(i.city for i in self.plans.values())
            text = f"{'、'.join(places)}についての記載は、この計画（{cities}）にはありません。"
            return self._done(q, Answer(q.raw, text, [], refused=True, lead=text), None, [])
        vector = self.embeddings.embed_query(q.search_text) if self.retrieval_mode != "keyword" else None
        ranked = self._measures(q, vector)
        prior = self._prior(ranked)
        facts = score_facts(q, self.table, self.snapshot.fact_keyword,
                            vector if self.retrieval_mode != "keyword" else None, prior)
        reason = self._absent(q, facts)
        if reason is not None:
            sel = Selection(q, refused=True, reason=reason, nearest=facts[:5], ranked=facts)
        else:
            sel = select(q, facts)
        answer = self.writer.answer(sel)
        answer.retrieved = self._retrieved(ranked)
        if q.unknown_measures:
            answer.notice = self.unknown_measure_message(q)
        return self._done(q, answer, sel, ranked)

    def _measures(self, q: Question, vector) -> list[MeasureHit]:
        """Measures and sections ranked from the chunks (the prior each fact's block gets)."""
        query = Query(raw=q.raw, text=q.search_text, plans=q.plans, plan_named=q.plan_named,
                      intents=[_CHUNK_INTENTS[a] for a in q.asks if a in _CHUNK_INTENTS])
        result = Retriever(self.snapshot, self.embeddings, self.retrieval_mode).search(query, vector=vector)
        ranked = boost_literal(result.measures, q.search_text)
        ranked = boost_rare_words(ranked, content_words(q.search_text), self._rarity,
                                  lambda h: self._measure_texts.get((h.plan, h.measure or ""), "")
                                  or "\n".join(x.chunk.text for x in h.hits))
        if q.asks_for("target"):
            ranked = boost_kpi_match(ranked, q.search_text, self._measure)
        return ranked

    def _measure(self, plan: str, number: int):
        parsed = self.snapshot.plans.get(plan)
        return parsed.measure(number) if parsed else None

    def _rarity(self, word: str) -> float:
        return min(idf_weight(self.snapshot.keyword, f"w:{word}"), 6.0)

    @staticmethod
    def _prior(ranked: list[MeasureHit]) -> dict[tuple[str, str], float]:
        if not ranked or ranked[0].score <= 0:
            return {}
        top = ranked[0].score
        prior: dict[tuple[str, str], float] = {}
        for hit in ranked[:20]:
            if hit.measure is not None:
                key = (hit.plan, f"m{hit.measure}")
            elif hit.hits:
                key = (hit.plan, f"s:{hit.hits[0].chunk.section}")
            else:
                continue
            prior[key] = max(prior.get(key, 0.0), hit.score / top)
        return prior

    def _absent(self, q: Question, facts: list[ScoredFact]) -> str | None:
        """Kinds of fact the plans never state (budgets, names…), topics and metrics they never mention."""
        evidence = "\n".join(s.fact.text for s in facts[:8])
        kind = absent_kind(q.text, evidence)
        if kind.refuse:
            return f"{kind.reason}は計画に書かれていません"
        best_dense = max((s.parts.get("dense", 0.0) for s in facts[:10]), default=0.0)
        if not q.measures and not q.follow_up:
            topic = absent_topic(q.text, self._corpus, self.snapshot.keyword.vocab)
            if topic and best_dense < STRONG_DENSE:
                return "".join(f"「{t}」" for t in topic) + "についての記載は計画にありません"
        if q.asks_for("target"):
            metric = absent_metric(q.text, self._corpus)
            if metric:
                return f"「{metric}」は計画に出てきません"
        return None

    def _done(self, q: Question, answer: Answer, sel: Selection | None, ranked: list[MeasureHit]) -> Reading:
        return Reading(q, answer, sel, self.focus_after(q, sel, ranked))

    def focus_after(self, q: Question, sel: Selection | None, ranked: list[MeasureHit]) -> Focus:
        """What the next turn inherits: the answered facts' places, or for a refusal the nearest ones."""
        facts = [s.fact for s in (sel.picked if sel and not sel.refused else (sel.nearest[:1] if sel else []))]
        measures = tuple(dict.fromkeys((f.plan, int(f.measure)) for f in facts if f.measure is not None))
        sections = tuple(dict.fromkeys((f.plan, f.section) for f in facts if f.measure is None and f.section))
        if not facts and q.measures:
            measures = tuple(q.measures)
        plans = tuple(dict.fromkeys([f.plan for f in facts] or q.plans))
        return Focus(plans=plans, measures=measures, sections=sections, asks=tuple(q.asks), years=tuple(q.years),
                     topic=trim_topic(q.search_text))

    def unknown_measure_message(self, q: Question) -> str:
        lines = []
        for pid, number in q.unknown_measures:
            parsed = self.snapshot.plans[pid]
            info = parsed.info
            nums = sorted(m.number for m in parsed.measures)
            span = f"{info.measure_label}{nums[0]}〜{info.measure_label}{nums[-1]}" if nums else "番号つきの施策なし"
            lines.append(f"{info.measure_name(number)} は計画にありません（{info.city}は {span}）。")
        return "".join(lines)

    def _retrieved(self, ranked: list[MeasureHit]) -> list[Retrieved]:
        out = []
        for h in ranked[:10]:
            best = h.hits[0].chunk if h.hits else None
            title = h.title
            if h.measure is not None:
                m = self._measure(h.plan, int(h.measure))
                title = m.title if m else title
            out.append(Retrieved(h.plan, h.measure, round(h.score, 5), title, best.field if best else "",
                                 best.text[:200] if best else "", best.id if best else ""))
        return out


__all__ = ["REFUSAL_HEAD", "Reader", "Reading"]
