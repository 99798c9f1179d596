"""Pick the fact(s) that answer, or decide from evidence that the plans do not say.

One fact per asked part: the best-scoring fact, then for each ask it does not
satisfy (担当 and 期間, 何人 and 回収率) the best fact of the same measure or
section that does; for comparisons the best fact of each plan. A refusal comes
with its reason and the nearest measures, never silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.fact_search import (
    BLANK_YEARS,
    ScoredFact,
    coverage,
    named_things,
    names_asked,
    satisfies,
    satisfies_year,
    shows_unit,
)
from assistant.figures import (
    FIGURE,
    GROUP,
    UNIT_NAMES,
    YEARLY,
    asks_quantity,
    counted_with,
    names_the_rate,
    shows,
    unreported_breakdown,
    year_cells,
)
from assistant.support import period_source, supporting
from assistant.understand import Question, unit_pattern, units_in

# Evidence floors (calibrated on the golden and held-out sets; see README 評価).
MIN_DENSE = 0.42  # below this and without keyword support, nothing in the plans is close
MIN_KEYWORD = 0.35
PART_MARGIN = 0.35  # a fact for a second part may score this much below the first pick
SWITCH_MARGIN = 0.2  # a fact of another block answers an asked kind only when it scores this close to the best
YEAR_MARGIN = 0.1  # another measure answers a named year only when it fits almost as well
RICHER_MARGIN = 0.1  # a fact holding more of the asked kinds wins when this close
LEAD_MARGIN = 0.3  # a compared measure's lead (what it does) answers for it when it fits this close to its best fact
COVER_MIN = 0.25  # a number answers only when its fact says this share of what the question names
_FIGURE_DIGIT = re.compile(r"\d")
# A figure asked in so many words (「どこまで進める」 asks how far, and may be answered by an action)
_FIGURE_ASKED = re.compile(r"数は|数を|数って|数の目標|件数|人数|数値|数字|(?<!効)率|割合|いくつ|どれ(くらい|ぐらい|だけ)|どの(くらい|ぐらい)")
_GENERIC_DEPT = re.compile(r"各課|各部局|各所属|関係課|関係各課|全庁|全課|各課等")
_EXISTS = re.compile(r"(ある|あります|あった)(の|んです)?(か|かな|？|\?|$)|ありますか")
_MONTH_ASKED = re.compile(r"何月|何日|いつ頃の何月|月日")
_MONTH_SAID = re.compile(r"\d+\s*月|[０-９]+月|\d+\.\d+")  # 令和8年9月, 2025.12
_SUBSET = re.compile(r"(その|この|それの)うち|うち[、,]|内訳")
_BY_WHEN = re.compile(r"いつまで|何年度まで|期限|締め?切")
_DEADLINE = re.compile(r"(令和\s*(\d+|元)|平成\s*\d+|20\d\d)\s*年[^。、]{0,6}までに")
HARD_ASKS = ("department", "when", "baseline", "target", "final", "survey", "definition", "items", "reason", "name")


@dataclass
class Selection:
    question: Question
    picked: list[ScoredFact] = field(default_factory=list)  # the facts the first sentence states
    support: list[ScoredFact] = field(default_factory=list)  # one or two sentences around them
    refused: bool = False
    reason: str = ""  # why the plans do not answer (Japanese, shown to the user)
    missing_years: list[int] = field(default_factory=list)
    unstated: list[str] = field(default_factory=list)  # asked parts the answered block does not state (担当課)
    nearest: list[ScoredFact] = field(default_factory=list)  # for a refusal: where to look instead
    ranked: list[ScoredFact] = field(default_factory=list)


def _refuse(q: Question, ranked: list[ScoredFact], reason: str, years: list[int] | None = None) -> Selection:
    return Selection(q, refused=True, reason=reason, missing_years=years or [], nearest=ranked[:5], ranked=ranked)


def _in_scope(q: Question, ranked: list[ScoredFact]) -> list[ScoredFact]:
    return [s for s in ranked if not q.plans or s.fact.plan in q.plans]


def select(q: Question, ranked: list[ScoredFact], words: list[tuple[str, ...]] | None = None,
           weight: Callable[[str], float] | None = None, about: Callable[[ScoredFact], str] | None = None) -> Selection:
    """``words``: the question's content words and ``weight`` their weights, for the check
    that a number answers the thing asked (「外部の専門人材を何人」 is not 「リーダー 25人」)."""
    pool = _in_scope(q, ranked)
    if not pool:
        return _refuse(q, ranked, "")
    best = pool[0]
    head = pool[:5]
    if (not q.measures and max(s.parts.get("dense", 0) for s in head) < MIN_DENSE
            and max(s.parts.get("keyword", 0) for s in head) < MIN_KEYWORD):
        return _refuse(q, pool, "")
    if "compare" in q.asks and not q.measures_named and len(q.years) < 2:
        sel = _compare(q, pool)
        missing = unreported_breakdown(q, sel.picked)
        return _refuse(q, pool, missing) if missing else sel
    if q.asks_for("which_measure"):  # 「どの施策？」: a measure answers
        pool = [s for s in pool if s.fact.measure is not None] or pool
        best = pool[0]
    hard = sorted((a for a in q.asks if a in HARD_ASKS), key=lambda a: a != "name")  # a name asked is the answer
    near = [s for s in pool if s.group == best.group or s.score >= best.score - PART_MARGIN]
    if q.years:
        # Named years: the answer must be about one of them, in the measure or section that fits
        # best (another one only when it fits almost as well).
        near = [s for s in near if any(satisfies_year(s.fact, y) for y in q.years)
                and (s.group == best.group or s.score >= best.score - YEAR_MARGIN)]
        if not near:
            return _refuse(q, pool, "", q.years)
    now = q.asks_for("baseline", "now") and not q.asks_for("target") and not q.years
    if q.units:  # 「何回」「何%」: a candidate that shows such a number answers first
        rows = [s for s in near if q.same_topic and q.focus is not None and s.fact.id in q.focus.rows]
        if rows:  # 「次の年は何回？」 about the milestone row just read: that row answers, or nothing does
            near = rows + [s for s in near if s not in rows]
            best = rows[0]
        shown = [s for s in (rows or near) if any(shows(s.fact, u, now, q) for u in q.units)]
        groups = GROUP.findall(q.text)  # 「70代以上の…」: a figure for that group first
        shown.sort(key=lambda s: (not all(g in s.fact.text for g in groups),
                                  "%" in q.units and not names_the_rate(s.fact.text, q),
                                  not any(counted_with(s.fact.text, u) for u in q.units)))
        near = shown + [s for s in near if s not in shown] if shown else near
        best = near[0] if shown and shown[0].score >= best.score - PART_MARGIN else best
    first = _prefer(near, hard, best, q.text)
    blank = _blank_date(q, first, near)
    if blank:
        return _refuse(q, pool, blank)
    current = (q.asks_for("baseline") and not q.asks_for("target") and not q.years and asks_quantity(q))
    if current and not any(satisfies(s.fact, "baseline") or satisfies(s.fact, "survey")  # survey figures are current ones
                           for s in near if s.group == first.group):
        # 「いまは何％？」 about a goal: the block's own current figure, however far down it ranks
        homes = {first.group} | _focus_groups(q)
        held = next((s for s in pool if s.group in homes and (satisfies(s.fact, "baseline") or satisfies(s.fact, "survey"))
                     and any(shows(s.fact, u, True, q) for u in q.units)), None)
        if held is not None:
            first = held
            near = [held, *near]
    if current and not any(satisfies(s.fact, "baseline") or satisfies(s.fact, "survey")
                           for s in near if s.group == first.group):
        blank = any("現状値 —" in s.fact.text for s in near if s.group == first.group)
        return _refuse(q, pool, "現状値は計画の表で「—」とされ、示されていません" if blank else "現状値は計画に書かれていません")
    picked = [first]
    unstated: list[str] = []
    if "department" in hard and not any(_names_department(s, first) for s in pool if s.group == first.group):
        # The measure names no department for its actions (延岡市): say so, and show what it does when.
        unstated.append("department")
        home = [s for s in pool if s.group == first.group]
        own = sorted((s for s in home if s.fact.field == "milestone"),  # the measure's own 工程表 before the
                     key=lambda s: s.fact.block.startswith("summary-"))  # overview's copy of its rows
        picked = (own[:3]
                  or [s for s in home if s.fact.field == "action"][:2] or picked)
    if "department" in hard and picked[0].fact.field == "action" and picked[0].fact.departments and all(
            _GENERIC_DEPT.fullmatch(d) for d in picked[0].fact.departments):
        # 「各課」 names no office: the measure's other actions that name one are said too
        named = [s for s in pool if s.group == first.group and s.fact.field == "action" and s not in picked
                 and any(not _GENERIC_DEPT.fullmatch(d) for d in s.fact.departments)]
        picked += named[:2]
    # Each further asked part gets a fact that holds it, from the same measure or section first.
    for ask in hard:
        if ask in unstated or any(satisfies(p.fact, ask) for p in picked):
            continue
        home = picked[0].group
        candidates = [s for s in near if satisfies(s.fact, ask) and s not in picked]
        candidates = [s for s in candidates if s.group == home] or [
            s for s in candidates if s.score >= picked[0].score - SWITCH_MARGIN]
        if candidates:
            picked.append(candidates[0])
    if q.asks_for("when") and _BY_WHEN.search(q.text) and not any(_DEADLINE.search(p.fact.text) for p in picked):
        # 「いつまでに移す？」: the block's sentence that sets the deadline (令和7年度末までに…) says it
        # the most precise one the block states (令和7年度末 over 令和7年度)
        stated = [s for s in near if s.group == picked[0].group and s not in picked and _DEADLINE.search(s.fact.text)]
        stated.sort(key=lambda s: not re.search(r"末|\d+月", _DEADLINE.search(s.fact.text).group(0)))
        deadline = stated[0] if stated else None
        if deadline is not None:
            picked.append(deadline)
    # Counters asked for (何人, 何%): a fact that shows one (for the asked year), else not stated.
    for unit in q.units:
        if any(shows(p.fact, unit, now, q) for p in picked):
            continue
        # from the answer's own measure or section, or one that fits almost as well (「いくつの医療機関」
        # in a network is not another measure's 「全12医療機関」)
        # a follow-up on the same milestone row (「次の年は何回？」) is answered by that row alone
        same_row = q.same_topic and q.focus is not None and first.fact.id in q.focus.rows
        from_survey = q.asks_for("survey") and satisfies(first.fact, "survey")  # a survey's number comes from a survey
        holder = next((s for s in near if shows(s.fact, unit, now, q) and (not from_survey or satisfies(s.fact, "survey")) and (
            s is first if same_row else (s.group == first.group or s.score >= first.score - SWITCH_MARGIN))), None)
        if holder is None:
            counted = f"{UNIT_NAMES.get(unit, unit + 'の数')}で示した値"
            cells = year_cells(first.fact, q.years) if same_row and q.years else ""
            if cells:  # the row's cell for that year says something else (「実施」)
                return _refuse(q, [first, *pool], f"その年度の工程表は「{cells}」で、{counted}は書かれていません")
            return _refuse(q, pool, f"{counted}は計画に書かれていません")
        if shows(picked[0].fact, unit, now):
            picked.insert(0, holder)  # the first pick counts in that unit but something else: the holder answers
        elif (picked[0].group == holder.group and not any(shows(picked[0].fact, u, now, q) for u in q.units)
              and all(satisfies(holder.fact, a) for a in hard if satisfies(picked[0].fact, a))):
            picked[0] = holder  # it answers all the first pick did, and the count asked (何手続を目標に)
        else:
            picked.append(holder)
    if q.asks_for("target") and not q.years:
        picked += _other_years(picked[0], pool)
    elif len(q.years) > 1:  # 「令和7年度と令和8年度でそれぞれ」: one fact per year
        for y in q.years:
            if not any(satisfies_year(p.fact, y) for p in picked):
                more = next((s for s in near if satisfies_year(s.fact, y) and s.group == picked[0].group), None)
                if more is not None:
                    picked.append(more)
    picked = list(dict.fromkeys(picked))
    if (q.years and (q.units or _FIGURE_ASKED.search(q.text)) and not any(_FIGURE_DIGIT.search(p.fact.text) for p in picked)
            and not _EXISTS.search(q.text)):  # 「その年度にも目標ってあるの？」 is answered by the target as written
        # 「令和7年度のアクセス数の目標は？」 where that year's target is an action (サイト改修を実施):
        # no figure is set for the year asked
        years = "・".join(f"{y}年度" for y in q.years)
        said = "、".join(f"「{p.fact.text}」" for p in picked[:2])
        return _refuse(q, list(dict.fromkeys([*picked, *pool])), f"{years}の目標は数値では示されておらず、{said}です")
    if q.follow_up and q.focus is not None and q.units and _SUBSET.search(q.text):
        # 「そのうち…は何橋？」: part of the figure just given; the same figure does not answer it
        def new_figures(s: ScoredFact) -> set[str]:
            shown = {n for u in q.units for m in unit_pattern(u).finditer(s.fact.text) for n in FIGURE.findall(m.group(0))}
            return shown - set(q.focus.figures)

        if not any(new_figures(p) for p in picked):
            # another stated figure of the same kind (a yearly count for 「年に何橋」, a total otherwise) answers
            yearly = bool(YEARLY.search(q.text))
            alt = next((s for s in near if s.fact.field in ("kpi", "baseline", "milestone", "survey", "kgi")
                        and new_figures(s) and bool(YEARLY.search(s.fact.text)) == yearly), None)
            if alt is None:
                return _refuse(q, pool, "その内訳の数は計画に書かれていません")
            picked = [alt]
    if _MONTH_ASKED.search(q.text) and not any(_MONTH_SAID.search(p.fact.text) for p in picked):
        # 「何年何月から使える？」: the plans give fiscal years, not the month asked
        return _refuse(q, [*picked, *pool], "示されているのは年度までで、何月からかは計画に書かれていません")
    numbered = [p for p in picked if re.search(r"\d", p.fact.text)]
    if not numbered and not (_EXISTS.search(q.text) and q.years):  # 「その年度にも目標ってある？」 answered by a
        numbered = picked  # target without a number has no number to check
    if (numbered and words and weight and asks_quantity(q) and not q.measures
            and not all(p.group in _focus_groups(q) for p in numbered)):  # the followed block carries the topic
        # The number must be about what the question names (「外部の専門人材を何人」 is not
        # 「リーダー 25人」): the fact, its place and its measure's summary must say most of it.
        extra = about or (lambda _s: "")
        if max(coverage(words, p.fact, weight, extra(p)) for p in numbered) < COVER_MIN:
            return _refuse(q, pool, "お尋ねの対象についての数値は計画に書かれていません")
    missing = unreported_breakdown(q, numbered)  # 20代, 外国人: in the figure itself, named measure or not
    if missing:
        return _refuse(q, pool, missing)
    support = period_source(picked, pool) or supporting(picked, pool, open_question=not hard and not q.units)
    return Selection(q, picked=picked, support=support, ranked=pool, unstated=unstated)


def _names_department(s: ScoredFact, first: ScoredFact) -> bool:
    """A measure states who does what in its actions (【…課】); an office named in passing (消防本部,
    研究センター) is no department of the measure. A section says it in its sentences."""
    if first.fact.measure is not None:
        return bool(s.fact.departments)
    return satisfies(s.fact, "department")


def _focus_groups(q: Question) -> set[tuple[str, str]]:
    """The blocks a follow-up about the same thing leans on (its measures and sections)."""
    if not q.same_topic:
        return set()
    return {(p, f"m{n}") for p, n in q.measures} | {(p, f"s:{k}") for p, k in q.sections}


def _other_years(first: ScoredFact, pool: list[ScoredFact]) -> list[ScoredFact]:
    """A target asked without a year: the same KPI line's targets for the plan's other years."""
    f = first.fact
    if f.field != "kpi" or not f.year:
        return []
    name = _kpi_key(f.text)
    return [s for s in pool if s.fact.field == "kpi" and s.group == first.group and s.fact.year
            and s.fact.year != f.year and _kpi_key(s.fact.text) == name][:2]


def _kpi_key(text: str) -> str:
    """A KPI line without its values: 「繁忙期の…削減【1割/日数】」→「繁忙期の…削減」."""
    return re.sub(r"[【（(].*$", "", text).strip()


def _blank_date(q: Question, first: ScoredFact, near: list[ScoredFact]) -> str:
    """「いつまでに」 answered by a final goal whose year the plan writes as 「—」: not set."""
    if not q.asks_for("when"):
        return ""
    goal = first if first.fact.field == "final_goal" else next(
        (s for s in near if s.fact.field == "final_goal" and s.group == first.group), None)
    if goal is not None and goal.fact.year_label.strip() in BLANK_YEARS and (
            q.asks_for("final") or first.fact.field == "final_goal"):
        return "達成見込み年度は「—」とされ、示されていません"
    return ""


def _prefer(near: list[ScoredFact], hard: list[str], best: ScoredFact, question: str = "") -> ScoredFact:
    """The best-scoring candidate that holds the first asked kind of fact (from the best
    candidate's measure or section when one there does); one a little lower that holds
    more of the asked kinds wins over it."""
    if not near:
        return best
    if not hard:
        return near[0]
    # A cue word (「最終的な」「いつ」) moves the answer to another measure or section only
    # when that one fits the question almost as well as the best one.
    near = [s for s in near if s.group == best.group or s.score >= best.score - SWITCH_MARGIN] or near
    holders = [s for s in near if satisfies(s.fact, hard[0])]
    if not holders:
        holders = [s for s in near if any(satisfies(s.fact, a) for a in hard)]
    if not holders:
        return near[0]
    if hard[0] == "name" and question:  # the name of what was asked (計画の名前: a plan's name, not the vision's)
        things = named_things(question)
        asked = [s for s in holders if names_asked(s.fact, things)]
        holders = asked + [s for s in holders if s not in asked]
        return holders[0]
    home = [s for s in holders if s.group == best.group] or holders
    if hard[0] == "target":  # a KPI line is the target itself; milestones and goals come after it
        kpis = [s for s in home if s.fact.field == "kpi" and s.score >= home[0].score - PART_MARGIN]
        home = kpis + [s for s in home if s not in kpis]
    choice = home[0]
    count = sum(satisfies(choice.fact, a) for a in hard)
    richer = [s for s in holders if sum(satisfies(s.fact, a) for a in hard) > count
              and s.score >= choice.score - RICHER_MARGIN]
    return richer[0] if richer else choice


def _compare(q: Question, pool: list[ScoredFact]) -> Selection:
    """One fact per plan in scope (both plans when none is named)."""
    plans = q.plans or list(dict.fromkeys(s.fact.plan for s in pool))
    hard = [a for a in q.asks if a in HARD_ASKS]
    if len(plans) == 1:
        return _two_of_one_plan(q, pool, hard)
    picked: list[ScoredFact] = []
    more: list[ScoredFact] = []
    units = _units_per_city(q, {plan: next((s.fact.context.split(" ")[0] for s in pool if s.fact.plan == plan), "")
                                for plan in plans})
    for plan in plans:
        mine = [s for s in pool if s.fact.plan == plan]
        if not mine:
            continue
        best = mine[0]
        near = [s for s in mine if s.group == best.group or s.score >= best.score - PART_MARGIN]
        if units[plan]:  # the best that shows the asked counter, of the asked kind (回収率 ~ 回答率, not any %)
            near = ([s for s in near if any(shows(s.fact, u, False, q) for u in units[plan])]
                    or [s for s in near if any(shows_unit(s.fact, u) for u in units[plan])] or near)
            if "%" in units[plan]:  # a rate labelled as asked (回答率:41%) before other percentages
                near.sort(key=lambda s: not names_the_rate(s.fact.text, q))
            best = near[0]
        choice = _prefer(near, hard, best)
        if not hard and not units[plan]:  # 「それぞれ何を進める？」「どう違う？」: what each city's measure does, in its lead
            choice = next((s for s in mine if s.group == choice.group and s.fact.field == "summary"
                           and s.score >= choice.score - LEAD_MARGIN), choice)
        picked.append(choice)
        if "target" in hard and not q.years:  # the same KPI line's other years, as for one plan
            more += _other_years(choice, mine)[:1]
        if choice.fact.field == "kpi" and choice.fact.year and "target" in hard:  # the measure's other indicator for that year, after
            other = next((s for s in mine if s.group == choice.group and s.fact.field == "kpi"  # every plan's first
                          and s.fact.year == choice.fact.year and _kpi_key(s.fact.text) != _kpi_key(choice.fact.text)), None)
            if other is not None:
                more.append(other)
    return Selection(q, picked=picked + more, support=[], ranked=pool)


def _units_per_city(q: Question, cities: dict[str, str]) -> dict[str, list[str]]:
    """「大分市は何人以上…、延岡市はどういうKPI？」: each city's part of the question says what it
    asks of that city: its own counter, or an open 「どういう…」 without one; a part that asks
    neither (「大分市と」「延岡市ではどちらが高い？」) shares the question's counters."""
    starts = sorted((m.start(), plan) for plan, city in cities.items() if city
                    for m in [re.search(re.escape(re.sub(r"[市町村]$", "", city)), q.text)] if m)
    out = {plan: list(q.units) for plan in cities}
    for i, (start, plan) in enumerate(starts):
        part = q.text[start: starts[i + 1][0] if i + 1 < len(starts) else len(q.text)]
        own = units_in(part)
        if own or _OPEN_ASK.search(part):
            out[plan] = own
    return out


_OPEN_ASK = re.compile(r"どういう|どんな|どのような|何を|なにを")


def _two_of_one_plan(q: Question, pool: list[ScoredFact], hard: list[str]) -> Selection:
    """「それぞれ」 inside one plan: the two best blocks (measures, or actions of one measure)."""
    picked: list[ScoredFact] = []
    seen: set[tuple] = set()
    for s in pool:
        if hard and not any(satisfies(s.fact, a) for a in hard):
            continue
        if q.units and not any(shows_unit(s.fact, u) for u in q.units):
            continue
        key = (s.group, s.fact.block if s.fact.field == "action" else "")
        if key in seen:
            continue
        seen.add(key)
        picked.append(s)
        if len(picked) == 2:
            break
    if not picked:
        picked = pool[:1]
    return Selection(q, picked=picked, support=[], ranked=pool)
