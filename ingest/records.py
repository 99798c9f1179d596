"""Structured records parsed from a plan: measures, sections, glossary terms.

Every parser returns a :class:`ParsedPlan`; everything downstream (chunks,
KPI listings, extractive answers) reads these records, never raw text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class PlanInfo:
    """One manifest entry: which file holds a plan and how to parse it."""

    id: str
    city: str
    title: str
    source: str
    parser: str = "generic"
    period: str = ""
    measure_label: str = "No."
    start_year: int | None = None
    end_year: int | None = None

    def measure_name(self, number: int | str) -> str:
        """Human name of a measure, e.g. 「大分市 No.3」「延岡市 重点方針5」."""
        return f"{self.city} {self.measure_label}{number}"


@dataclass
class Action:
    """One concrete action: 大分市〈取組〉 or 延岡市 具体的な取組."""

    text: str
    title: str = ""
    area: str = ""  # 延岡市: 分野 such as 交通分野
    period: str = ""  # as written, e.g. 令和7年度～令和8年度
    years: list[int] = field(default_factory=list)  # fiscal years covered (western)
    departments: list[str] = field(default_factory=list)
    milestones: dict[str, str] = field(default_factory=dict)  # {"R8": "→ 調整・準備", ...}


@dataclass
class KPI:
    """One KPI line. ``year`` is the fiscal year the target is for (western)."""

    text: str
    year: int | None = None
    year_label: str = ""  # as written: 2025(令和7)年度 / R12
    targets: list[str] = field(default_factory=list)  # values as written: 76,000件, 96%
    baseline: str | None = None  # 現状値
    target: str | None = None  # 目標値


@dataclass
class FinalGoal:
    """大分市 最終的な目標: target year and the state to reach."""

    text: str
    target_year: int | None = None
    target_year_text: str = ""


@dataclass
class Measure:
    """A numbered measure (大分市 No.N) or policy (延岡市 重点方針N)."""

    plan: str
    number: int
    title: str
    overview: str = ""  # 施策概要
    goal_state: str = ""  # 目指すべき姿 (延岡市)
    background: str = ""  # 施策実施背景 / 現状の課題
    actions: list[Action] = field(default_factory=list)
    kpis: list[KPI] = field(default_factory=list)
    final_goal: FinalGoal | None = None
    key_projects: list[str] = field(default_factory=list)  # 重点事業 (延岡市)
    visions: dict[str, bool] | None = None  # 3つの実現したい未来 ○ flags
    category: str = ""  # 地域DX / 行政DX
    notes: list[str] = field(default_factory=list)  # parse notes (recovered header...)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Section:
    """A part of a plan that is not a measure: introduction, chapter, survey."""

    plan: str
    key: str
    title: str
    text: str
    kind: str = "chapter"  # intro | chapter | survey | glossary | kgi | milestones


@dataclass
class GlossaryTerm:
    plan: str
    term: str
    explanation: str


@dataclass
class ParsedPlan:
    info: PlanInfo
    measures: list[Measure] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    glossary: list[GlossaryTerm] = field(default_factory=list)

    def measure(self, number: int) -> Measure | None:
        return next((m for m in self.measures if m.number == number), None)


def plan_to_dict(parsed: ParsedPlan) -> dict[str, Any]:
    return asdict(parsed)


def plan_from_dict(data: dict[str, Any]) -> ParsedPlan:
    """Inverse of :func:`plan_to_dict` (records.json in an index generation)."""
    measures = []
    for m in data.get("measures", []):
        m = dict(m)
        m["actions"] = [Action(**a) for a in m.get("actions", [])]
        m["kpis"] = [KPI(**k) for k in m.get("kpis", [])]
        m["final_goal"] = FinalGoal(**m["final_goal"]) if m.get("final_goal") else None
        measures.append(Measure(**m))
    return ParsedPlan(
        info=PlanInfo(**data["info"]),
        measures=measures,
        sections=[Section(**s) for s in data.get("sections", [])],
        glossary=[GlossaryTerm(**g) for g in data.get("glossary", [])],
    )
