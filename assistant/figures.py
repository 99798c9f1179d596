"""Does a figure the plans state answer the number a question asks?

A figure answers only when it is of the asked kind: in the asked counter (人, 件, %),
for the asked year (a milestone row's cell), a total or a yearly count as asked, a rate
whose label shares the question's (回収率 ~ 回答率), and, for a breakdown (年代別,
男性), written beside the group itself.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.fact_search import ScoredFact, satisfies
from assistant.understand import Question, asks_number, counter_forms, unit_pattern

__all__ = ["FIGURE", "GROUP", "TOTAL", "UNIT_NAMES", "YEARLY", "asks_quantity", "counted_with", "names_the_rate",
           "shows", "unreported_breakdown", "year_cells"]

GROUP = re.compile(r"\d+代|男性|女性|男女|性別|年代|年齢|外国人|海外|訪日|インバウンド|現役世代|シニア世代")  # a breakdown asked for (by age, sex, origin)


def shows(fact, unit: str, now: bool, q: Question | None = None) -> bool:
    """The fact shows a number in ``unit``; asked about the present (「今は何％？」), a current
    one: a KPI's baseline, never its target, a milestone or a goal. With the question, the
    number must also fit it (:func:`_figure_fits`)."""
    if not now:
        said = year_cells(fact, q.years) if q is not None and q.years and fact.field == "milestone" else fact.text
        if fact.field == "kpi" and q is not None and not q.asks_for("baseline", "now"):  # 「有収率（現状88.4%）の向上」 sets no figure to reach: the bracket is the baseline
            said = _INLINE_BASELINE.sub("", said)
    elif fact.field == "kpi":  # its baseline, given apart or in the line (「有収率（現状88.4%）の向上」)
        said = " ".join([fact.baseline, *re.findall(r"現状(?:値)?[^）)】]*", fact.text)])
    elif fact.field in ("milestone", "final_goal", "kgi") and not satisfies(fact, "survey"):
        return False  # a goal, unless it quotes where the survey found things (「回答した割合は44%」)
    else:
        said = fact.text
    if q is None:
        return bool(unit_pattern(unit).search(said))
    if unit == "%" and not _says_degree(fact, q):
        return False
    return any(_figure_fits(said, m, unit, q) for m in unit_pattern(unit).finditer(said))


# A measured degree the question names (満足度, 認知度, 習熟度): a percentage of something else does not answer it.
_DEGREE = re.compile(r"([一-龥]{2})度")
_NOT_DEGREES = {"年度", "程度", "制度", "今度", "頻度", "毎年", "来年", "昨年", "本年", "前年", "初年", "次年", "当年", "最終年", "支度", "丁度"}


def _says_degree(fact, q: Question) -> bool:
    said = q.text + (" " + q.focus.topic if q.follow_up and q.focus is not None and not q.measures_named else "")
    stems = _degrees(said)
    return not stems or any(stem in fact.text or stem in fact.context for stem in stems)


@lru_cache(maxsize=256)
def _degrees(said: str) -> frozenset[str]:
    """The stems of the degrees a question names (満足度 → 満足), read once per question, not per fact."""
    return frozenset(m.group(1) for m in _DEGREE.finditer(said) if m.group(0) not in _NOT_DEGREES
                     and not m.group(1).endswith("年"))


_INLINE_BASELINE = re.compile(r"[（(]\s*現状(?:値)?[^）)]*[）)]")


def year_cells(fact, years: list[int]) -> str:
    """A milestone row's cells for the asked years (R9 of 「R8: 2回 / R9: 実施」 is 「実施」)."""
    cells = getattr(fact, "cells", None) or ()
    if not cells:
        return fact.text
    said = [value for label, value in cells if (m := re.fullmatch(r"R(\d+)", label.strip())) and 2018 + int(m.group(1)) in years]
    return " / ".join(said)


TOTAL = re.compile(r"全部で|合計|全体で|総数|総計|トータル|あわせて|合わせて")


def _yearly_figure(text: str, m: re.Match) -> bool:
    """「年間50橋」「50件/年」: a count per year (「5年間で合計250橋」 is not one)."""
    return bool(re.search(r"(?<![\d０-９])(年間|毎年|年に|1年|一年)\s*$", text[max(0, m.start() - 4):m.start()])
                or re.match(r"\s*[/／]\s*年", text[m.end():]))


_RESULT_BEFORE = re.compile(r"(現状値?|実績|回答した|答えた|回答は)[^。]{0,16}$")
_RESULT_AFTER = re.compile(r"[^。]{0,4}(という結果|の結果|でした|であった|となっている|となりました)")
_RATE_LABEL = re.compile(r"([一-龥ァ-ヶー]{1,8})(?:率|割合)※?[^\d。、]{0,10}$")


def _figure_fits(text: str, m: re.Match, unit: str, q: Question) -> bool:
    """A figure answers the question's number only if it is of the asked kind: a labelled rate
    (「有効回収率 36.3%」「所有率については70%」) answers only a question that shares a letter of
    its label (回答率 ~ 回収率, not 参加率 ~ 所有率)."""
    if TOTAL.search(q.text) and not YEARLY.search(q.text) and _yearly_figure(text, m):
        return False  # 「全部でいくつ」 is no yearly count (「年間50橋」)
    if YEARLY.search(q.text) and not TOTAL.search(q.text) and TOTAL.search(text[max(0, m.start() - 8):m.start()]):
        return False  # 「年に何橋」 is no total (「5年間で合計250橋」)
    if q.asks_for("target", "final") and not q.asks_for("baseline", "now") and (
            _RESULT_BEFORE.search(text[max(0, m.start() - 24):m.start()]) or _RESULT_AFTER.match(text[m.end():m.end() + 12])):
        return False  # a target asked: a survey result or a current value (「回答した割合は44%という結果」) is none
    if unit == "%":
        label = _RATE_LABEL.search(text[max(0, m.start() - 30):m.start()])
        if label and not set(re.findall(r"[一-龥]", label.group(1))) & set(q.text):
            return False
    return True


def counted_with(text: str, unit: str) -> bool:
    """A number written with the counter itself (「280手続」), not a bare table cell (「手続き数: 280」)."""
    forms = ("%", "％", "割") if unit == "%" else counter_forms(unit)
    return bool(re.search(r"\d[\d,.]*\s*(?:万)?\s*(?:" + "|".join(map(re.escape, forms)) + ")", text))


def names_the_rate(text: str, q: Question) -> bool:
    """The text labels a percentage with the rate the question names (回収率 → 「回答率:41%」)."""
    said = q.text + (" " + q.focus.topic if q.follow_up and q.focus is not None else "")  # 「延岡市のほうは？」 after 回収率
    asked = {c for m in re.finditer(r"([一-龥]{1,4}?)(?:率|割合)", said) for c in m.group(1)}
    if not asked:
        return False
    for m in re.finditer(r"\d+(?:\.\d+)?\s*[%％]|\d\s*割", text):  # 「受診率は4割以下」 too
        label = _RATE_LABEL.search(text[max(0, m.start() - 30):m.start()])
        if label and asked & set(re.findall(r"[一-龥]", label.group(1))):
            return True
    return False


FIGURE = re.compile(r"\d[\d,.]*")  # a number as written (967, 52,187, 88.4)
YEARLY = re.compile(r"年間|毎年|年に|1年|一年|/年|／年")
_BREAKDOWN = re.compile(r"内訳|別[にのでは]|ごと[にのでは]")


def unreported_breakdown(q: Question, picked: list[ScoredFact]) -> str:
    """A number broken down by a group (20代, 男性, 年代の内訳) must be in the figure itself."""
    if not asks_quantity(q) and not _BREAKDOWN.search(q.text):
        return ""
    for group in GROUP.findall(q.text):
        if not any(group in p.fact.text for p in picked):
            return f"{group}についての内訳は計画に書かれていません"
        if q.units and not any(_group_figure(p.fact.text, group, q.units) for p in picked):
            # 「年代別に何人ずつ」: a figure in the asked unit beside the group, not a caption (年代ごとの回答数(人))
            return f"{group}ごとの{UNIT_NAMES.get(q.units[0], q.units[0] + 'の数')}は計画に書かれていません"
    return ""


# A dimension asked for (年代別) is reported by its groups (70代, 女性)
_GROUP_MEMBERS = {"年代": r"\d+代", "年齢": r"\d+(?:代|歳)", "性別": "男性|女性", "男女": "男性|女性"}


def _group_figure(text: str, group: str, units: list[str]) -> bool:
    """The text gives a number counted in one of ``units`` within a few letters of the group."""
    member = _GROUP_MEMBERS.get(group, re.escape(group))
    for m in re.finditer(member, text):
        near = text[max(0, m.start() - 12):m.end() + 16]
        if any(u.search(near) for u in (unit_pattern(x) for x in units)):
            return True
    return False


UNIT_NAMES = {"人": "人数", "名": "人数", "件": "件数", "%": "割合（%）", "回": "回数", "点": "点数"}


def asks_quantity(q: Question) -> bool:
    return bool(q.units) or (q.asks_for("target", "baseline") and (asks_number(q.text) or q.number_carried))
