"""Score every fact of the index for one question: meaning, words, the measure it
belongs to, and the question's constraints as soft evidence.

All terms are computed over arrays prepared once per index generation
(:class:`FactTable`), so a question costs one matrix-vector product, one sparse
BM25 product and a few vector additions, whatever it asks. Constraints are score
terms, never filters that could empty the list (the plan a user chose is the one
exact scope). Every score keeps its parts, so ``planqa ask --json`` and the
evaluation report can show why a fact won.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from assistant.terms import defining_bonus, literal_bonus
from assistant.understand import UNIT_SHOWS, Question, unit_pattern
from ingest.facts import Fact
from ingest.parsers.text import year_range
from vectorstore.keyword import content_words, expand_words, tokenize

# Weights (calibrated on the golden and held-out sets with `planqa eval`; see README).
W_DENSE = 1.8  # meaning outweighs shared words: 1.0 → 1.8 moved held-out pass 0.899 → 0.908 (flat up to 2.2), golden unchanged
W_KEYWORD = 0.35
W_PRIOR = 0.45  # the measure-level ranking (chunks) the fact's measure or section got
B_NAMED_MEASURE = 0.6  # a measure named in the question (exact)
B_FOCUS = 0.25  # the measure a follow-up inherits
FOCUS_ASKS = ("target", "baseline", "final", "department", "survey")  # kinds a block may not hold at all
B_FIELD = 0.12  # per unit of field affinity with what is asked
B_YEAR = 0.2  # the fact is about the asked year
B_YEAR_OTHER = 0.15  # the fact is about another year
B_EARLIER_PLAN = 0.3  # a sentence naming the city's own earlier plan (its name, when it ends), for 「前の計画」
B_PAST = 0.12  # a sentence in the past tense, for a question about what was done (これまでに…した)
B_UNIT = 0.08  # the fact shows a number in the asked counter
B_TERM = 0.5  # a glossary term the question names literally
B_PERIOD = 0.4  # the plan period (from the plan list) when the question asks for it
B_GLOSSARY_OFF = 0.2  # a glossary entry answers what a word means, not what a city does
OUT_OF_SCOPE = -10.0
B_CAPTION = 0.3  # a figure's caption or a label alone (「【図24】全体の満足度」「（分析及び傾向）」) states nothing
_CAPTION = re.compile(r"^\s*(【(図|表)\s*\d+】[^。]{0,30}|[（(【][^）)】。]{1,12}[）)】])。?\s*$")
B_PREVIOUS = 0.2  # the last answer's measure or section, for a question naming none in a conversation (0.1/0.2/0.3: 1,309/1,311/1,311 of 1,397 golden and held-out items pass)
B_LEANING = 0.15  # the plan a conversation is about, when the question names none
PLAN_PRIOR = 0.5  # plan-level facts (period, the visions list) have no chunk of their own to be ranked by
PLAN_GROUPS = {"s:plan", "s:visions"}

# How well a field answers each kind of ask (0..1).
AFFINITY: dict[str, dict[str, float]] = {
    "target": {"kpi": 1.0, "milestone": 0.6, "final_goal": 0.4, "kgi": 0.7, "section": 0.1},
    "baseline": {"baseline": 1.0, "kpi": 0.6, "background": 0.4, "section": 0.3, "survey": 0.3},
    "now": {"baseline": 0.8, "kpi": 0.3, "background": 0.4, "survey": 0.4},
    "department": {"action": 0.8, "section": 0.2},
    "when": {"action": 0.5, "milestone": 0.8, "final_goal": 0.5, "plan": 0.5, "section": 0.2, "survey": 0.2},
    "final": {"final_goal": 1.0, "kgi": 0.6, "goal_state": 0.6},
    "definition": {"glossary": 0.5},
    "survey": {"survey": 1.0},
    "reason": {"background": 0.9, "section": 0.5, "overview": 0.3},
    "period": {"plan": 1.0, "section": 0.2},
    "which_measure": {"summary": 1.0, "overview": 0.4, "goal_state": 0.3},
    "name": {"section": 0.6, "overview": 0.6, "background": 0.6, "summary": 0.6, "plan": 0.6, "action": 0.4,
             "goal_state": 0.4},
    "what": {"overview": 0.5, "action": 0.5, "summary": 0.4, "goal_state": 0.5, "key_projects": 0.3},
    "benefit": {"final_goal": 1.0, "goal_state": 1.0},
    "change": {"action": 2.0, "goal_state": 0.3, "milestone": 0.3},  # above the usual 0..1: what will be done leads
}
BLANK_YEARS = {"—", "-", "―", "ー", "－", "未定"}
_BLANK_BASELINE = re.compile(r"現状値?\s*[：:]?\s*[—\-―－]")
_DEPARTMENT = re.compile(r"[一-龥ァ-ヶ]+(課|部|室|局|センター|本部|部会)")
_ENUMERATED = re.compile(r"[①-⑳]|(?:^|\s)- ")
# A name given in 「」: 「…」をビジョンとして掲げ / 「…」という / 策定した「…」 (nested 「」 allowed).
_NAMED = re.compile(r"「[^「」]{2,}(?:「[^「」]*」[^「」]*)*」(?:を|が|は|と)?[^。「」]{0,20}?(?:として|という|と呼|と称|と名付)"
                    r"|(?:策定した|策定された|掲げる|名称|愛称|通称|呼ばれる)[^。「」]{0,6}「[^「」]{4,}")
_SURVEY_FIGURE = re.compile(r"(回答|答え)[^。]{0,20}\d+(\.\d+)?\s*[%％]")
# The city's own earlier plan, named in 「」 (with the end of its period, or as the one the city drew up).
_PREDECESSOR = re.compile(r"(本市|当市)[^。]{0,30}「[^」]*計画[^」]*」[^。]{0,40}(計画期間を終え|期間が満了|終了|後継|引き継)"
                          r"|(本市|当市)[^。]{0,10}(策定した|が策定)「[^」]*計画")
_PAST = re.compile(r"(ました|でした|てきた|した)[。\s]*$")
_DATE = re.compile(r"(\d{4}年|令和\s*\d+|平成\s*\d+|R\s?\d+|\d+年度|\d+月|年度末)")


@dataclass(eq=False)  # identity: the same fact scored twice is two candidates
class ScoredFact:
    fact: Fact
    score: float
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def group(self) -> tuple[str, str]:
        return group_key(self.fact)


def group_key(fact: Fact) -> tuple[str, str]:
    """The block a fact answers for: its measure, or its section; the survey and the
    glossary each count as one block (a two-part survey question spans its parts)."""
    if fact.measure is not None:
        return fact.plan, f"m{fact.measure}"
    if fact.field in ("survey", "glossary"):
        return fact.plan, f"s:{fact.field}"
    return fact.plan, f"s:{fact.section}"


def coverage(words: list[tuple[str, ...]], fact: Fact, weight, extra: str = "") -> float:
    """Share (by weight) of the question's nouns the fact says, in its text or its place
    (measure title, heading); a noun counts when it or one of its everyday alternatives
    (先生 → 教員) is there. The thing asked about must be in the answer."""
    if not words:
        return 1.0
    from vectorstore.keyword import sentence_forms

    body = f"{fact.context}\n{fact.text}\n{extra}"
    forms = sentence_forms(body)
    total = sum(weight(w[0]) for w in words)
    said = sum(weight(w[0]) for w in words if any(a in body or a in forms for a in w))
    return said / total if total else 1.0


def satisfies_year(fact: Fact, year: int) -> bool:
    if fact.year == year or fact.baseline_date and _mentions_year(fact.baseline_date, year):
        return True
    if any(k == f"R{year - 2018}" for k, _ in fact.cells):
        return True
    if fact.period and year in year_range(fact.period):
        return True
    return _mentions_year(fact.text, year)


def _mentions_year(text: str, year: int) -> bool:
    r = year - 2018
    return bool(re.search(rf"(?<!\d){year}(?!\d)|令和\s*{r}(?!\d)|(?<![A-Za-z])R\s?{r}(?!\d)", text))


def satisfies(fact: Fact, ask: str) -> bool:
    """Does this fact hold the kind of thing the ask wants?"""
    if ask == "department":
        return bool(fact.departments) or bool(_DEPARTMENT.search(fact.text))
    if ask == "when":
        if fact.year_label.strip() in BLANK_YEARS:
            return False  # the plan writes the year as 「—」: not set
        return bool(fact.period or fact.cells or fact.year_label.strip("—-― ")) or bool(_DATE.search(fact.text))
    if ask == "baseline":
        if _BLANK_BASELINE.search(fact.text):
            return False  # 「現状値 —」: the plan gives none
        return fact.field == "baseline" or bool(fact.baseline) or bool(re.search(r"(現状|実績|時点|現在)", fact.text))
    if ask == "target":  # a KPI-like line, or a sentence that states a target with a number
        return fact.field in ("kpi", "milestone", "final_goal", "kgi") or (
            bool(re.search(r"(目標|目指)", fact.text)) and bool(re.search(r"\d", fact.text)))
    if ask == "final":
        return fact.field in ("final_goal", "kgi", "goal_state")
    if ask == "definition":
        return fact.field == "glossary"
    if ask == "survey":  # the survey, or a figure from it quoted elsewhere (「…と回答した割合は44%」), not a target
        return fact.field == "survey" or fact.field not in ("kpi", "milestone", "final_goal") and bool(_SURVEY_FIGURE.search(fact.text) and "アンケート" in fact.text)
    if ask == "reason":  # why: a background or narrative sentence, not a target or a date
        return fact.field in ("background", "section")
    if ask == "name":
        return bool(_NAMED.search(fact.text))
    if ask == "past":  # what was done: a sentence in the past tense (「…を構築しました」)
        return bool(_PAST.search(fact.text))
    if ask == "items":  # an enumerated list (① … ② …, - … - …)
        return len(_ENUMERATED.findall(fact.text)) >= 2
    return True


_NAME_WORDS = {"名前", "名称", "フレーズ", "スローガン", "標語", "題名", "タイトル", "愛称", "呼び名", "一言"}


def named_things(question: str) -> list[str]:
    """The nouns of a question asking for a name, without the asking words and place names."""
    from vectorstore.keyword import compound_nouns

    return [w for w, _ in compound_nouns(question)
            if len(w) >= 2 and w not in _NAME_WORDS and not re.search(r"[市町村県]$", w)]


def names_asked(fact: Fact, asked: list[str]) -> bool:
    """The fact names (in 「」) the kind of thing the question asks the name of (``asked``, from
    :func:`named_things`): 「…計画」 or 「…」をビジョンとして for 「前の計画の名前」「ビジョンを一言で」."""
    for m in _NAMED.finditer(fact.text):
        if any(w in m.group(0) for w in asked):
            return True
    return False


def shows_unit(fact: Fact, unit: str) -> bool:
    return bool(unit_pattern(unit).search(fact.text))


class FactTable:
    """Arrays over the facts of one index generation, built once when it loads."""

    def __init__(self, facts: list[Fact], vectors: np.ndarray):
        self.facts = facts
        self.vectors = vectors  # (n, d), L2-normalised
        self.plans = np.array([f.plan for f in facts])
        self.fields = np.array([f.field for f in facts])
        self.years = np.array([f.year or 0 for f in facts])
        self.groups = [group_key(f) for f in facts]
        self.group_index: dict[tuple[str, str], np.ndarray] = {}
        for i, g in enumerate(self.groups):
            self.group_index.setdefault(g, []).append(i)  # type: ignore[arg-type]
        self.group_index = {g: np.array(ix) for g, ix in self.group_index.items()}
        self._ask_masks: dict[str, np.ndarray] = {}
        self._holds: dict[str, np.ndarray] = {}
        self._year_masks: dict[int, np.ndarray] = {}
        self._unit_masks: dict[str, np.ndarray] = {}
        self._holders: dict[str, np.ndarray] = {}
        self.captions = np.array([bool(_CAPTION.match(f.text)) for f in facts], dtype=bool)
        self.blank_baseline = np.array([bool(_BLANK_BASELINE.search(f.text)) for f in facts], dtype=bool)
        self.predecessor = np.array([bool(_PREDECESSOR.search(f.text)) for f in facts], dtype=bool)
        self.past = np.array([bool(_PAST.search(f.text)) for f in facts], dtype=bool)
        self.glossary_names = {i: re.split(r"[（(:：]", f.text)[0].strip() for i, f in enumerate(facts)
                               if f.field == "glossary"}

    def holders(self, term: str) -> np.ndarray:
        """Indices of the facts whose text or context holds ``term`` verbatim."""
        if term not in self._holders:
            if len(self._holders) > 5000:  # question words vary without end; keep the cache bounded
                self._holders.clear()
            self._holders[term] = np.array([i for i, f in enumerate(self.facts) if term in f.text or term in f.context],
                                           dtype=np.int64)
        return self._holders[term]

    def affinity(self, ask: str) -> np.ndarray:
        if ask not in self._ask_masks:
            table = AFFINITY.get(ask, {})
            base = np.array([table.get(f, 0.0) for f in self.fields], dtype=np.float32)
            ok = np.array([satisfies(f, ask) for f in self.facts], dtype=np.float32)
            self._ask_masks[ask] = base * (0.5 + 0.5 * ok)
            self._holds[ask] = (base > 0) & (ok > 0)
        return self._ask_masks[ask]

    def prepare(self) -> None:
        """Build every per-ask, per-unit and per-year mask now (a server's warm-up), so no
        question pays for the first use of one; the years are those the facts carry."""
        for ask in AFFINITY:
            self.affinity(ask)
        for unit in UNIT_SHOWS:
            self.unit_mask(unit)
        years = {int(y) for y in self.years if y} | {2018 + int(k[1:]) for f in self.facts for k, _ in f.cells
                                                       if k[1:].isdigit()}
        for year in sorted(years):
            self.year_mask(year)

    def holds(self, ask: str) -> np.ndarray:
        """Facts of a field that answers ``ask`` and that hold what it asks for."""
        self.affinity(ask)
        return self._holds[ask]

    def year_mask(self, year: int) -> np.ndarray:
        if year not in self._year_masks:
            self._year_masks[year] = np.array([satisfies_year(f, year) for f in self.facts])
        return self._year_masks[year]

    def unit_mask(self, unit: str) -> np.ndarray:
        if unit not in self._unit_masks:
            self._unit_masks[unit] = np.array([shows_unit(f, unit) for f in self.facts])
        return self._unit_masks[unit]


def load_table(snapshot) -> FactTable:
    """The fact table of a snapshot (vectors read from its Chroma collection once)."""
    table = getattr(snapshot, "_fact_table", None)
    if table is None:
        facts = snapshot.facts
        if facts and getattr(snapshot, "fact_vectors", None) is not None:
            vectors = np.asarray(snapshot.fact_vectors, dtype=np.float32)
        elif facts:
            got = snapshot.fact_dense._collection.get(ids=[f.id for f in facts], include=["embeddings"])
            by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
            vectors = np.array([by_id[f.id] for f in facts], dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
        else:
            vectors = np.zeros((0, 1), dtype=np.float32)
        table = FactTable(facts, vectors)
        snapshot._fact_table = table
    return table


def score_facts(q: Question, table: FactTable, keyword_index, vector: list[float] | None,
                prior: dict[tuple[str, str], float], top: int = 80) -> list[ScoredFact]:
    """The ``top`` facts for the question, best first, each with its score parts."""
    n = len(table.facts)
    if n == 0:
        return []
    if vector is not None:
        qv = np.asarray(vector, dtype=np.float32)
        dense = table.vectors @ (qv / max(float(np.linalg.norm(qv)), 1e-12))
    else:
        dense = np.zeros(n, np.float32)
    terms = tokenize(q.search_text)
    extra = [w for w in expand_words(content_words(q.search_text)) if w not in q.search_text]
    if extra:
        terms += [t for t in tokenize(" ".join(extra)) if t.startswith("w:")]
    kw = keyword_index.scores(terms)
    kw = kw / kw.max() if kw.max() > 0 else kw
    prior_arr = np.array([prior.get(g, PLAN_PRIOR if g[1] in PLAN_GROUPS else 0.0) for g in table.groups],
                         dtype=np.float32)
    score = W_DENSE * dense + W_KEYWORD * kw + W_PRIOR * prior_arr
    score = score - B_CAPTION * table.captions
    parts: dict[str, np.ndarray] = {}
    if q.plans:
        parts["scope"] = np.where(np.isin(table.plans, q.plans), 0.0, OUT_OF_SCOPE)
    elif q.leaning:
        parts["leaning"] = np.where(np.isin(table.plans, q.leaning), B_LEANING, 0.0)
    if q.elsewhere:  # 「先生向けにも同じような取組は？」: another block than the one just answered
        keys = set(q.elsewhere)
        parts["elsewhere"] = np.array([g in keys for g in table.groups]) * -B_FOCUS
    if q.previous:
        keys = set(q.previous)
        parts["previous"] = np.array([g in keys for g in table.groups]) * B_PREVIOUS
    if q.measures or q.sections:
        keys = {(p, f"m{n}") for p, n in q.measures} | {(p, f"s:{key}") for p, key in q.sections}
        hit = np.array([g in keys for g in table.groups])
        hard = [a for a in q.asks if a in FOCUS_ASKS]
        held = table.holds(hard[0]) if hard else None
        if hard and hard[0] == "baseline":  # 「現状値 —」 answers too: the block says it gives none
            held = held | table.blank_baseline
        if q.measures_named or not hard or np.any(hit & held):
            parts["measure"] = hit * (B_NAMED_MEASURE if q.measures_named else B_FOCUS)
        # else: a follow-up asks for a kind of fact its block does not hold (「何で測るの？」 after
        # the vision): the block gives way, the plan stays.
    asks = [a for a in q.asks if a in AFFINITY]
    if "benefit" in asks:  # 「どう便利になる？」: what people gain, not what the city will do
        asks = [a for a in asks if a not in ("what", "change")]
    elif "change" in asks:  # 「どう変わる」 is a what-question answered by what will be done
        asks = [a for a in asks if a != "what"]
    if asks:
        parts["field"] = B_FIELD * sum(table.affinity(a) for a in asks) / max(1.0, len(asks) ** 0.5)
    if q.years:
        ok = np.zeros(n, dtype=bool)
        for y in q.years:
            ok |= table.year_mask(y)
        other = (table.years > 0) & ~ok
        parts["year"] = B_YEAR * ok - B_YEAR_OTHER * other
    if q.asks_for("earlier_plan"):  # 「前の計画は？」: the sentence naming the city's own earlier plan
        parts["earlier_plan"] = B_EARLIER_PLAN * table.predecessor
    if q.asks_for("past"):  # 「これまでに何をした？」: what the plans report as done
        parts["past"] = B_PAST * table.past
    if q.units:
        parts["unit"] = B_UNIT * sum(table.unit_mask(u) for u in q.units)
    if q.asks_for("period"):
        parts["period"] = np.where(table.fields == "plan", B_PERIOD, 0.0)
    if not q.asks_for("definition"):
        parts["glossary"] = np.where(table.fields == "glossary", -B_GLOSSARY_OFF, 0.0)
    if table.glossary_names and q.asks_for("definition"):
        term = np.zeros(n, dtype=np.float32)
        for i, name in table.glossary_names.items():
            if len(name) >= 2 and name in q.text:
                term[i] = B_TERM
        parts["term"] = term
    if q.asks_for("definition"):
        defined = defining_bonus(q.text, table)
        if defined is not None:
            parts["defines"] = defined
    literal = literal_bonus(q.text, table)
    if literal is not None:
        parts["literal"] = literal
    for arr in parts.values():
        score = score + arr
    k = min(top, n)
    idx = np.argpartition(-score, k - 1)[:k]
    idx = idx[np.argsort(-score[idx])]
    out = []
    for i in idx:
        detail = {"dense": float(dense[i]), "keyword": float(kw[i]), "prior": float(prior_arr[i])}
        detail.update({name: float(arr[i]) for name, arr in parts.items() if arr[i]})
        out.append(ScoredFact(table.facts[i], float(score[i]), detail))
    return out
