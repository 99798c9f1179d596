"""Write the answer from the selected facts, without an LLM.

The first sentence states the asked fact(s), every number copied from the fact as
the plan writes it; one or two supporting sentences follow; the citations are the
facts' places (measure, or section for narrative facts). Deterministic: the same
facts always give the same text.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.fact_search import ScoredFact, group_key, satisfies_year
from assistant.select import Selection
from assistant.types import Answer, Citation
from ingest.facts import FACT_FIELDS, Fact, kpi_name
from ingest.records import PlanInfo

REFUSAL_HEAD = "計画にはその記載がありません。"
QUOTE_CHARS = 160


LEAD_CHARS = 130
GOAL_STATE_CHARS = 200  # a state of several short lines reads as one  # a longer sentence is cut to the clauses that hold what was asked
_CLAUSE_END = re.compile(r"(?<=[、。，；])")
KPI_SHORT_CHARS = 45  # a KPI line quoted beside others: its asked items, cut at a comma
_HINTS = {
    "department": re.compile(r"[一-龥ァ-ヶ]+(課|部|室|局|センター|本部|部会|チーム)"),
    "when": re.compile(r"(\d{4}年|令和\s*\d+|平成\s*\d+|R\s?\d+|\d+年度|\d+月|年度末)"),
    "target": re.compile(r"\d"),
    "baseline": re.compile(r"\d"),
    "name": re.compile(r"「"),
    "earlier_plan": re.compile(r"「[^」]*計画"),
}


def focus_clause(text: str, q, limit: int = 0) -> str:
    """The part of a long sentence that answers: the run of clauses (at most LEAD_CHARS)
    holding the most question words and the kind of thing asked (a department, a date, a
    number), marked with 「…」 where it was cut."""
    limit = limit or LEAD_CHARS
    if len(text) <= limit:
        return text
    from vectorstore.keyword import content_words, sentence_forms

    clauses = [c for c in _CLAUSE_END.split(text) if c]
    words = content_words(q.text)
    hints = [_HINTS[a] for a in q.asks if a in _HINTS]

    def score(part: str) -> float:
        forms = sentence_forms(part)
        return (sum(len(w) for w in words if w in part or w in forms)
                + sum(4 for h in hints if h.search(part)))

    best, best_score = (0, 1), -1.0
    for i in range(len(clauses)):
        length = 0
        for j in range(i, len(clauses)):
            length += len(clauses[j])
            if length > limit and j > i:
                break
            value = score("".join(clauses[i : j + 1])) - 0.001 * i + 0.00001 * length  # ties: the longer run
            if value > best_score:
                best, best_score = (i, j + 1), value
    i, j = best
    part = "".join(clauses[i:j]).strip()
    return ("…" if i > 0 else "") + part + ("…" if j < len(clauses) and not part.endswith("。") else "")


def _asked_items(text: str, q) -> str:
    """A KPI line listing several items, cut to the ones the question is about; whole when a
    cut-off item holds a word of the question (「情報セキュリティ研修とインシデント対応訓練」)."""
    part = focus_clause(text, q, KPI_SHORT_CHARS)
    if part == text:
        return text
    from vectorstore.keyword import content_words

    kept = part.strip("…")
    dropped = "".join(c for c in _CLAUSE_END.split(text) if c and c not in kept)
    if any(len(w) >= 2 and w in dropped and w not in kept for w in content_words(q.text)):
        return text
    return part


def _names_more(question: str, text: str, title: str) -> bool:
    """The question names a thing (a noun) that ``text`` says and the measure's title does not."""
    from vectorstore.keyword import nouns

    return any(w in text and w not in title for w in nouns(question))


def _when(fact) -> str:
    """The year a KPI is for, as written, without a trailing 目標 (「R12（2030年度）目標」 → 「R12（2030年度）」)."""
    when = fact.year_label or (f"{fact.year}年度" if fact.year else "")
    return re.sub(r"\s*目標$", "", when)


def _without_baseline(text: str) -> str:
    return re.sub(r"（現状値 [^（）]*(（[^（）]*）[^（）]*)?）$", "", text).strip()


def _quote(text: str, limit: int = QUOTE_CHARS) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Writer:
    def __init__(self, plans: dict[str, PlanInfo]):
        self.plans = plans

    # --- names and places ----------------------------------------------------
    def place(self, fact: Fact, short: bool = False) -> str:
        """「大分市 No.3「公式アプリの機能拡充」」 or 「延岡市の計画（第5章 …）」; ``short`` drops
        the measure's title (a lead naming several facts; the titles are in the citations)."""
        info = self.plans.get(fact.plan)
        if info is None:
            return fact.title
        if fact.measure is not None:
            return info.measure_name(fact.measure) if short else f"{info.measure_name(fact.measure)}「{fact.title}」"
        if fact.field == "glossary":
            return f"{info.city}の計画の用語解説"
        if fact.field == "plan":
            return f"{info.city}の「{info.title}」"
        return f"{info.city}の計画（{fact.title.replace('／', ' ')}）"

    def cite(self, fact: Fact) -> Citation:
        info = self.plans.get(fact.plan)
        label = (f"{info.measure_name(fact.measure)} {fact.title}" if info and fact.measure is not None
                 else f"{info.city if info else fact.plan} {fact.title}")
        return Citation(fact.plan, fact.measure, fact.title, fact.field, _quote(fact.text), label)

    # --- one fact as a sentence ----------------------------------------------
    def sentence(self, fact: Fact, sel: Selection, first: bool, short: bool = False) -> str:
        """One fact as a sentence; the asked value comes early, the place in brackets after it."""
        q = sel.question
        where = self.place(fact, short)
        if fact.field == "kpi":
            when = _when(fact)
            # beside another measure's line, a KPI listing several items keeps the ones asked about
            text = _asked_items(fact.text, q) if short and first else fact.text
            if not q.asks_for("baseline", "now"):
                text = text.replace("（現状値 —）", "")  # a blank baseline is said only when asked
            base = ""
            if q.asks_for("baseline", "now") and fact.baseline and fact.baseline not in text:
                base = f"（現状値 {fact.baseline}{'：' + fact.baseline_date if fact.baseline_date else ''}）"
            return f"{where}の{when}の目標（KPI）は「{text}」です{base}。"
        if fact.field == "baseline":
            return f"{where}によると、{fact.text}です。"
        if fact.field == "milestone":
            cells = fact.cells
            if q.years:
                keys = {f"R{y - 2018}" for y in q.years}
                cells = tuple(c for c in cells if c[0] in keys) or cells
            label = re.sub(r"^.*｜工程表\s*", "", fact.context) or "取組"
            return f"工程表では「{label}」は " + " / ".join(f"{k}: {v}" for k, v in cells) + f" です（{where}）。"
        if fact.field == "final_goal":
            when, _, goal = fact.text.partition(": ")
            if not when.startswith("達成見込み年度"):
                when, goal = "", fact.text
            year = when.replace("達成見込み年度 ", "")
            if first and year and q.asks_for("when") and not q.asks_for("what"):
                if not _names_more(q.text, goal, fact.title) and not (q.units and _counts_in(goal, q.units)):
                    return f"最終的な目標の達成見込み年度は{year}です（{where}）。"
                # a count asked with the year (「全部で何橋を、何年度までに」) is in the goal: said too
                # 「支所でもカードで払えるのはいつ？」: the goal names what was asked, so it is said too
                counted = [x for x in re.split(r"(?<=。)", goal) if q.units and _counts_in(x, q.units)]
                said = re.sub(r"\s*\n\s*・?|^\s*・", " ", "".join(counted) or focus_clause(goal, q)).strip().rstrip("。")
                said = re.sub(r"^(また|なお|さらに)、", "", said)
                return f"最終的な目標の達成見込み年度は{year}で、目標は「{said}」です（{where}）。"
            goal = focus_clause(goal, q) if first else goal
            head = f"達成見込み年度は{year}、" if year else ""
            return f"{head}最終的な目標は「{goal.rstrip('。')}」です（{where}）。"
        if fact.field == "action" and (fact.departments or fact.period):
            body = re.sub(r"【[^】]*】$", "", fact.text).strip()
            deps = "、".join(fact.departments)
            if q.asks_for("department") and deps:
                # the period and department as the plan writes them (【令和7年度 情報政策課】), else said
                bracket = re.search(r"【[^】]*】$", fact.text)
                period = bracket.group(0) if bracket else (f"、期間は{fact.period}" if fact.period else "")
                return f"担当は{deps}です（{where}の取組「{body}」{period}）。"
            meta = "、".join(x for x in (fact.period, f"担当は{deps}" if deps else "") if x)
            return f"取組「{body}」は{meta}です（{where}）。"
        if fact.field == "glossary":
            term, _, explanation = fact.text.partition(": ")
            return f"{term}は「{explanation}」と説明されています（{where}）。"
        if fact.field == "plan":
            return fact.text
        limit = GOAL_STATE_CHARS if fact.field == "goal_state" else LEAD_CHARS
        text = focus_clause(fact.text, q, limit) if first and fact.field != "summary" else fact.text
        text = text if text.endswith(("。", "」", "）", ")", "…")) else text + "。"
        return f"{text}（{where}）" if first else text

    # --- the answer ------------------------------------------------------------
    def answer(self, sel: Selection) -> Answer:
        q = sel.question
        if sel.refused:
            return self.refusal(sel)
        if q.measures_named and q.asks_for("target") and sel.picked and all(
                s.fact.field == "kpi" and s.group == sel.picked[0].group for s in sel.picked):
            # 「重点方針3のKPIは？」: every KPI line of that measure and year is the answer, said once
            same = [s for s in sel.support if s.fact.field == "kpi" and s.group == sel.picked[0].group
                    and s.fact.year == sel.picked[0].fact.year]
            sel = replace(sel, picked=sel.picked + same, support=[s for s in sel.support if s not in same])
        short = len({s.group for s in sel.picked}) > 1
        lead_parts = self._kpi_years(sel, short) or [self.sentence(s.fact, sel, first=True, short=short)
                                                     for s in sel.picked]
        if "department" in sel.unstated and sel.picked:
            lead_parts.insert(0, f"{self.place(sel.picked[0].fact)}の取組ごとの担当課は計画に書かれていません。取組と工程は次のとおりです。")
        lead = "\n".join(dict.fromkeys(lead_parts))
        # A sentence cut to its answering clauses is quoted whole right after the lead.
        whole = [s.fact.text for s in sel.picked if "…" in lead and s.fact.field not in ("kpi", "baseline", "milestone")
                 and s.fact.text not in lead and len(s.fact.text) > LEAD_CHARS]
        lines = [lead]
        support = [f"（全文）{t}" for t in whole] + [self.sentence(s.fact, sel, first=False) for s in sel.support]
        support = [s for s in support if s not in lead]
        if support:
            lines.append("\n".join(f"・{s}" for s in support))
        citations = []
        seen = set()
        for s in sel.picked + sel.support:
            c = self.cite(s.fact)
            key = (c.plan, c.measure, c.field, c.quote)
            if key not in seen:
                seen.add(key)
                citations.append(c)
        return Answer(q.raw, "\n".join(lines), citations, intent=",".join(q.asks) or "what", lead=lead)

    def _kpi_years(self, sel: Selection, short: bool) -> list[str]:
        """A measure's KPI targets in one sentence, the place said once: one line's targets for
        several years (「2025年度が「…」、2026年度が「…」」), or several lines of one year
        (「R12（2030年度）の目標（KPI）は「…」と「…」」)."""
        facts = [s.fact for s in sel.picked]
        if len(facts) < 2 or any(f.field != "kpi" or not f.year for f in facts) or len({group_key(f) for f in facts}) > 1:
            return []
        place = self.place(facts[0], short)
        if len({f.year for f in facts}) == 1:
            lines = "と".join(f"「{f.text}」" for f in facts)
            return [f"{place}の{_when(facts[0])}の目標（KPI）は{lines}です。"]
        values = [f"{_when(f)}が「{_without_baseline(f.text)}」" for f in facts]
        base = next((f for f in facts if f.baseline), None)
        tail = f"（現状値 {base.baseline}{'：' + base.baseline_date if base.baseline_date else ''}）" if base else ""
        return [f"{place}の目標（KPI）は、{'、'.join(values)}です{tail}。"]

    def refusal(self, sel: Selection) -> Answer:
        q = sel.question
        text = REFUSAL_HEAD
        if sel.reason:
            text += f"（{sel.reason}）"
        if sel.missing_years:
            text += self._years_note(sel)
        near = self.nearest(sel.nearest)
        if near:
            text += f"\n関連しそうな記載: {near}"
        return Answer(q.raw, text, [], refused=True, intent=",".join(q.asks) or "what", lead=REFUSAL_HEAD)

    def _years_note(self, sel: Selection) -> str:
        asked = "、".join(f"{y}年度" for y in sel.missing_years)
        top = sel.nearest[0].fact if sel.nearest else None
        if top is None:
            return f"{asked}についての記載は見つかりませんでした。"
        years = sorted({s.fact.year for s in sel.ranked if s.group == sel.nearest[0].group and s.fact.year})
        listed = "、".join(f"{y}年度" for y in years)
        note = f"{self.place(top)}に{asked}の記載はありません。"
        return note + (f"（記載がある年度: {listed}）" if listed else "")

    def nearest(self, ranked: list[ScoredFact]) -> str:
        names = []
        for s in ranked:
            name = self.place(s.fact)
            if name not in names:
                names.append(name)
            if len(names) == 2:
                break
        return "、".join(names)


__all__ = ["FACT_FIELDS", "REFUSAL_HEAD", "Writer", "kpi_name", "satisfies_year"]


def _counts_in(text: str, units: list[str]) -> bool:
    from assistant.understand import unit_pattern

    return any(unit_pattern(u).search(text) for u in units)
