"""The exact references in a question (plan names, measure numbers) and the view of a
question the chunk retriever reads.

Pure functions over the question text and the plan list, so every routing rule
is unit-testable without an index; :mod:`assistant.understand` builds on them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ingest.parsers.text import nfkc_digits
from ingest.records import PlanInfo

# Measure references. 大分市: 施策No.22 / No22 / 施策番号32番 / 施策7 / 22番の施策; 延岡市: 重点方針4 / 方針4.
_NO_REF = re.compile(
    r"(?:施策\s*(?:No|NO|no|番号)\s*\.?\s*|(?<![A-Za-z])(?:No|NO|no|Ｎｏ)\s*\.?\s*|施策\s*(?=\d))(\d{1,4})"
    r"|(\d{1,4})\s*番(?:目)?の?施策"
)
_POLICY_REF = re.compile(r"(?:重点)?方針\s*(?:第)?\s*(\d{1,4})")
_KANJI_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


@dataclass
class Query:
    """What the chunk retriever reads: the text, the plans in scope and the asked fields
    (as chunk fields' intents: kpi, final_goal, department, period)."""

    raw: str
    text: str  # cleaned: injection sentences removed, widths normalised
    plans: list[str] = field(default_factory=list)  # plan ids to search (empty = all)
    plan_named: bool = False  # a plan was named in the question or chosen by the user
    measures: list[tuple[str, int]] = field(default_factory=list)  # explicit (plan, number) refs
    unknown_measures: list[tuple[str, int]] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    injection: bool = False
    follow_up: bool = False

    @property
    def intent(self) -> str:
        return self.intents[0] if self.intents else "what"


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return nfkc_digits(text)


def city_aliases(info: PlanInfo) -> list[str]:
    city = info.city
    base = re.sub(r"[市町村区]$", "", city)
    return [a for a in {city, base} if a]


def detect_plans(text: str, plans: dict[str, PlanInfo]) -> list[str]:
    return [pid for pid, info in plans.items() if any(alias in text for alias in city_aliases(info))]


def measure_refs(text: str, plans: dict[str, PlanInfo], scoped: list[str]) -> list[tuple[str, int]]:
    refs: list[tuple[str, int]] = []
    policy_plans = [p for p, i in plans.items() if "方針" in i.measure_label]
    no_plans = [p for p, i in plans.items() if "方針" not in i.measure_label]
    text_k = re.sub(r"(重点方針|方針)\s*([一二三四五六七八九十])", lambda m: f"{m.group(1)}{_KANJI_NUM[m.group(2)]}", text)
    for m in _POLICY_REF.finditer(text_k):
        targets = [p for p in policy_plans if not scoped or p in scoped] or policy_plans
        refs += [(p, int(m.group(1))) for p in targets]
    stripped = _POLICY_REF.sub(" ", text_k)
    for m in _NO_REF.finditer(stripped):
        number = int(m.group(1) or m.group(2))
        targets = [p for p in no_plans if not scoped or p in scoped] or no_plans
        refs += [(p, number) for p in targets]
    return list(dict.fromkeys(refs))
