"""The fact reader: question → facts that answer → answer.

understand (what is pinned down and asked, follow-up focus merged in) → one query
embedding → measure-level ranking of the chunks (a prior) and every fact scored
with the question's constraints → select (the facts that answer, or "not stated"
from evidence) → write (first sentence states the asked facts) → the focus this
turn leaves behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.compose import REFUSAL_HEAD, Writer
from assistant.conversation import Focus, trim_topic
from assistant.fact_search import ScoredFact, group_key, load_table, score_facts
from assistant.figures import FIGURE, GROUP, asks_quantity
from assistant.query import Query
from assistant.refusal import (
    absent_kind,
    absent_metric,
    absent_topic,
    area_names,
    carried_topic,
    place_names,
    unknown_places,
)
from assistant.rerank import boost_kpi_match, boost_literal, boost_rare_words
from assistant.retrieve import MeasureHit, Retriever, group_prior
from assistant.select import Selection, select
from assistant.types import Answer, Retrieved
from assistant.understand import Question, asking_sentences
from vectorstore.keyword import content_words, expand_words, idf_weight, noun_runs, nouns, short_nouns

# Nouns that shape a question about numbers rather than name its subject.
QUESTION_FORM_WORDS = {
    "目標", "目標値", "予定", "計画", "数", "件数", "人数", "回数", "割合", "率", "現状", "現状値", "現在", "実績", "時点", "最終",
    "年間", "毎年", "水準", "数値", "数字", "担当", "期間", "時期", "年度", "以上", "程度", "くらい", "ぐらい", "最終年度", "中間",
    "見込み", "見通し", "値", "指標", "規模", "合計", "全体", "全部", "今後", "将来", "いつ", "何", "方", "ほう", "話", "こと",
    "つもり", "積もり", "はず", "わけ",  # formal nouns (「上げるつもり？」): they shape the sentence, they name nothing
}
_QUOTED = re.compile(r"「([^」]{4,40})」")
_WHICH_AREA = re.compile(r"(どの|どこの|どちらの)(地区|地域|町|エリア|校区)|次は?どこ")  # a place is the answer
NAME_CHARS = 6  # a name of the plans shared with the question this long specifies what is counted
NAME_BLOCKS = 3
WHOLE_MARGIN = 0.1  # a measure saying the question's words on their own wins over one this close that holds them inside longer words
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
        self._plan_corpus = {pid: "\n".join(f.text for f in snapshot.facts if f.plan == pid) for pid in snapshot.plans}
        self._summaries = {group_key(f): f.text for f in snapshot.facts if f.field == "summary" and f.block == "summary"}
        self._section_kinds = {(pid, sec.key): sec.kind for pid, p in snapshot.plans.items() for sec in p.sections}
        self._block_texts: dict[tuple[str, str], str] = {}
        for f in snapshot.facts:
            key = group_key(f)
            self._block_texts[key] = self._block_texts.get(key, "") + f"\n{f.context}\n{f.text}"
        self._quoted = sorted({m for f in snapshot.facts for m in _QUOTED.findall(f.text) if "計画" not in m})
        self._words_of: dict[tuple[str, str], set[str]] = {}
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
        places = unknown_places(asking_sentences(q.text), self._corpus)  # 「隣町の職員です。」 only frames
        if places:
            cities = "・".join(i.city for i in self.plans.values())
            text = f"{'、'.join(places)}についての記載は、この計画（{cities}）にはありません。"
            return self._done(q, Answer(q.raw, text, [], refused=True, lead=text), None, [])
        self._drop_period_years(q)
        vector = self.embeddings.embed_query(q.search_text) if self.retrieval_mode != "keyword" else None
        ranked = self._measures(q, vector)
        prior = self._prior(ranked)
        facts = score_facts(q, self.table, self.snapshot.fact_keyword,
                            vector if self.retrieval_mode != "keyword" else None, prior)
        facts = self._prefer_whole_words(q, facts)
        reason = self._absent(q, facts)
        if reason is not None:
            sel = Selection(q, refused=True, reason=reason, nearest=facts[:5], ranked=facts)
        else:
            sel = select(q, facts, self._topic_words(q), self._weight, self._summary_of)
            unstated = self._unstated(q, sel, facts)
            if unstated is not None:
                reason, nearest = unstated
                sel = Selection(q, refused=True, reason=reason, nearest=nearest, ranked=facts)
            if not sel.refused and q.asks_for("definition"):
                self._add_usage(sel, facts)
        answer = self.writer.answer(sel)
        answer.retrieved = self._retrieved(ranked)
        answer.evidence = [_evidence(s, role) for role, group in (("answer", sel.picked), ("support", sel.support),
                                                                  ("nearest", sel.nearest[:3] if sel.refused else []))
                           for s in group]
        if q.unknown_measures:
            answer.notice = self.unknown_measure_message(q)
        elif q.injection:
            answer.notice = "質問に含まれていた指示文は無視し、計画についての質問として回答しました。"
        return self._done(q, answer, sel, ranked)

    def rank_measures(self, q: Question) -> list[MeasureHit]:
        """Measures and sections ranked for a question (the retriever's view, no answer)."""
        vector = self.embeddings.embed_query(q.search_text) if self.retrieval_mode != "keyword" else None
        return self._measures(q, vector)

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
        if q.measures_named:  # measures the question names come first
            named = [(p, str(n)) for p, n in q.measures]
            front = [next((h for h in ranked if (h.plan, h.measure) == key), None) or MeasureHit(key[0], key[1], "", 1.0)
                     for key in named]
            ranked = front + [h for h in ranked if (h.plan, h.measure) not in named]
        return ranked

    def _measure(self, plan: str, number: int):
        parsed = self.snapshot.plans.get(plan)
        return parsed.measure(number) if parsed else None

    def _drop_period_years(self, q: Question) -> None:
        """「令和8年度から12年度の計画で…」: years that only restate a plan's period pin nothing."""
        if len(q.years) != 2 or not re.search(r"年度?\s*(から|～|~|〜)", q.text):
            return
        for pid in q.plans or list(self.plans):
            info = self.plans[pid]
            if info.start_year and info.end_year and set(q.years) == {info.start_year, info.end_year}:
                q.years = []
                return

    def _places_not_in(self, q: Question, sel: Selection) -> list[str]:
        """Places the question names (大分県, 別府市) that the answering facts never mention:
        the plans then say nothing about that place's matter."""
        if sel.refused:
            return []
        cities = {a for info in self.plans.values() for a in (info.city, info.city.rstrip("市町村"))}
        places = [p for p in place_names(asking_sentences(q.text)) if p not in cities]
        said = "\n".join(f"{s.fact.context}\n{s.fact.text}" for s in sel.picked + sel.support)
        return [p for p in places if p not in said]

    def _prefer_whole_words(self, q: Question, facts: list[ScoredFact]) -> list[ScoredFact]:
        """Between measures that fit a question about equally well (per plan), the one whose title and
        lead say the question's nouns as words of their own wins over one that holds them only inside
        longer words (「職員向けの研修」: 職員の情報セキュリティ, not 教職員の…)."""
        words = [w for w in short_nouns(asking_sentences(q.text)) if len(w) >= 2]
        if not words or q.measures:
            return facts
        bonus: dict[tuple[str, str], float] = {}
        for plan in dict.fromkeys(s.fact.plan for s in facts[:20]):
            mine = [s for s in facts if s.fact.plan == plan]
            best = mine[0]
            inside = [w for w in words if self._held_inside(best.group, w)]
            if not inside:
                continue
            rivals = [s.group for s in mine if s.group != best.group and s.fact.measure is not None
                      and s.score >= best.score - WHOLE_MARGIN]
            for group in dict.fromkeys(rivals):
                if all(w in self._own_words(group) for w in inside):
                    bonus[group] = WHOLE_MARGIN
                    break
        if not bonus:
            return facts
        for s in facts:
            if s.group in bonus:
                s.score += bonus[s.group]
                s.parts["whole_words"] = bonus[s.group]
        return sorted(facts, key=lambda s: -s.score)

    def _own_words(self, group: tuple[str, str]) -> set[str]:
        if group not in self._words_of:
            self._words_of[group] = short_nouns(self._summaries.get(group, ""))
        return self._words_of[group]

    def _held_inside(self, group: tuple[str, str], word: str) -> bool:
        summary = self._summaries.get(group, "")
        return word in summary and word not in self._own_words(group)

    def _unstated(self, q: Question, sel: Selection, facts: list[ScoredFact]) -> tuple[str, list[ScoredFact]] | None:
        """Why the picked facts, close as they are, do not say what was asked (with the nearest
        facts to name), or None when they do: a place they never mention, a count about a named
        thing taken from elsewhere, a district asked for that only the question names."""
        missing = self._places_not_in(q, sel)
        if missing:
            return f"{'、'.join(missing)}についての記載は計画にありません", facts[:5]
        if sel.refused:
            return None
        unnamed = self._name_not_counted(q, sel)
        if unnamed:
            return f"「{unnamed}」についての数値は計画に書かれていません", sel.ranked[:5]
        if _WHICH_AREA.search(q.text):
            said = " ".join(s.fact.text for s in sel.picked + sel.support)
            if not [p for p in area_names(said) if p not in q.text]:  # only the place the question names
                return "お尋ねの地区は計画に書かれていません", sel.ranked[:5]
        return None

    def _name_not_counted(self, q: Question, sel: Selection) -> str:
        """A number asked about something the plans name in 「」 (「おおいた医療ネットワーク」) must come
        from the measure or section that names it, not from a neighbour counting something alike
        (「全12医療機関」 of the emergency service). Names used in more than a few places specify nothing."""
        if q.measures or not asks_quantity(q):
            return ""
        name = self._specific_name(q.text)
        numbered = [p for p in sel.picked if re.search(r"\d", p.fact.text)]
        if not name or not numbered or any(name in self._block_texts.get(p.group, "") for p in numbered):
            return ""
        return name

    def _specific_name(self, text: str) -> str:
        """The longest run of nouns in the question (≥ NAME_CHARS) that is part of a name the plans
        write in 「」 and that no more than NAME_BLOCKS measures or sections mention."""
        best = ""
        for run in noun_runs(text):
            if len(run) < NAME_CHARS or len(run) <= len(best) or not any(run in n for n in self._quoted):
                continue
            if 0 < sum(run in t for t in self._block_texts.values()) <= NAME_BLOCKS:
                best = run
        return best

    def _topic_words(self, q: Question) -> list[tuple[str, ...]]:
        """The nouns naming what the question is about, each with its everyday alternatives
        (子ども → 児童, こども), without city names and words that only shape the question
        (目標, 人数, 現状…), plus age groups (20代)."""
        cities = "".join(i.city for i in self.plans.values())
        def topic(text: str) -> list[str]:
            return [w for w in nouns(text) if w not in cities and w not in QUESTION_FORM_WORDS]

        # The nouns of the sentences that ask, when they name at least two things: a sentence
        # that only frames the question (who asks, why) says nothing about the number asked.
        words = topic(asking_sentences(q.text))
        if len(words) < 2:
            words = topic(q.text)
        words = words or (topic(q.search_text) if q.follow_up else [])  # a follow-up's own nouns first
        return [tuple(expand_words([w])) for w in words] + [(a,) for a in GROUP.findall(q.text)]

    def _summary_of(self, s: ScoredFact) -> str:
        """The title and lead sentence of the fact's measure (what its KPIs count)."""
        return self._summaries.get(s.group, "")

    def _weight(self, word: str) -> float:
        """A question word's weight for coverage: its IDF among the facts (capped)."""
        return min(idf_weight(self.snapshot.fact_keyword, f"w:{word.lower()}"), 6.0)

    def _add_usage(self, sel: Selection, facts: list[ScoredFact]) -> None:
        """A glossary answer also says where the plan uses the term (the best-scoring measure fact
        that names it)."""
        first = sel.picked[0].fact
        if first.field != "glossary":
            return
        term = re.split(r"[（(:：]", first.text)[0].strip()
        if not term:
            return
        use = next((s for s in facts if s.fact.measure is not None and s.fact.plan == first.plan
                    and (term in s.fact.text or term in s.fact.context)), None)
        if use is None:  # not among the best-scoring facts: the first measure fact that names it
            holder = next((self.table.facts[i] for i in self.table.holders(term)
                           if self.table.facts[i].measure is not None and self.table.facts[i].plan == first.plan), None)
            use = ScoredFact(holder, 0.0, {}) if holder is not None else None
        if use is not None and use not in sel.support:
            sel.support = [use] + sel.support[:1]

    def _rarity(self, word: str) -> float:
        return min(idf_weight(self.snapshot.keyword, f"w:{word}"), 6.0)

    def _prior(self, ranked: list[MeasureHit]) -> dict[tuple[str, str], float]:
        return group_prior(ranked, self._section_kinds)

    def _absent(self, q: Question, facts: list[ScoredFact]) -> str | None:
        """Kinds of fact the plans never state (budgets, names…), topics and metrics they never mention."""
        evidence = "\n".join(s.fact.text for s in facts[:8])
        kind = absent_kind(asking_sentences(q.text), evidence)  # 「住所を何度も書くのが大変です。」 only frames
        if kind.refuse:
            return f"{kind.reason}は計画に書かれていません"
        best_dense = max((s.parts.get("dense", 0.0) for s in facts[:10]), default=0.0)
        corpus = "\n".join(self._plan_corpus.get(p, "") for p in q.plans) if q.plans else self._corpus
        if not q.measures and not q.follow_up:
            # a topic the plans lack, both in the whole question and in the sentences that ask
            # (「車いすなので…ひと苦労です。」 only frames it; 「バスが1日に数本…」 frames it with a topic)
            vocab = self.snapshot.keyword.vocab
            topic = absent_topic(q.text, self._corpus, vocab)
            if topic and asking_sentences(q.text) != q.text:
                topic = topic if absent_topic(asking_sentences(q.text), self._corpus, vocab) else []
            if topic and best_dense < STRONG_DENSE:
                return "".join(f"「{t}」" for t in topic) + "についての記載は計画にありません"
        carried = self.carried_elsewhere(q)
        if carried:
            return carried
        if q.asks_for("target", "baseline") or q.units:
            metric = absent_metric(q.text, corpus)
            if metric:
                return f"「{metric}」は計画に出てきません"
        return None

    def carried_elsewhere(self, q: Question) -> str | None:
        """「延岡市では橋の点検は？」 after 大分市's bridges: the topic carried to the other city is a
        noun of both turns that the other city's plan never mentions."""
        f = q.focus
        if f is None or len(q.plans) != 1 or not f.plans or q.plans[0] in f.plans:
            return None
        shared = carried_topic(q.text, f.topic, self._plan_corpus.get(q.plans[0], ""),
                               "\n".join(self._plan_corpus.get(p, "") for p in f.plans))
        if not shared:
            return None
        return "".join(f"「{w}」" for w in shared) + f"についての記載は{self.plans[q.plans[0]].city}の計画にはありません"

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
        figures = tuple(dict.fromkeys(FIGURE.findall(" ".join(f.text for f in facts)))) if sel else ()
        return Focus(plans=plans, measures=measures, sections=sections, asks=tuple(q.asks), years=tuple(q.years),
                     units=tuple(q.units), topic=trim_topic(q.search_text), figures=figures,
                     rows=tuple(f.id for f in facts if f.field == "milestone") if sel and not sel.refused else ())

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


def _evidence(s: ScoredFact, role: str) -> dict:
    f = s.fact
    return {"role": role, "id": f.id, "plan": f.plan, "measure": f.measure, "section": f.section or None,
            "field": f.field, "text": f.text, "score": round(s.score, 4),
            "parts": {k: round(v, 4) for k, v in s.parts.items()}}


__all__ = ["REFUSAL_HEAD", "Reader", "Reading"]
