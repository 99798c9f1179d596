"""Read a question: which plans, which measure numbers, which years, what intent.

Pure functions over the question text and the plan list, so every routing rule
is unit-testable without an index.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ingest.parsers.text import nfkc_digits, years_in
from ingest.records import PlanInfo

# Measure references. 大分市: 施策No.22 / No22 / 施策番号32番 / 施策7 / 22番の施策; 延岡市: 重点方針4 / 方針4.
_NO_REF = re.compile(
    r"(?:施策\s*(?:No|NO|no|番号)\s*\.?\s*|(?<![A-Za-z])(?:No|NO|no|Ｎｏ)\s*\.?\s*|施策\s*(?=\d))(\d{1,4})"
    r"|(\d{1,4})\s*番(?:目)?の?施策"
)
_POLICY_REF = re.compile(r"(?:重点)?方針\s*(?:第)?\s*(\d{1,4})")
_KANJI_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

INTENT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("glossary", re.compile(r"(用語|(?<!こ)とは[？?何]?|って(何|なに)(?=[？?。]|$|です|なの|だろ|\s)|の意味|意味は|どういう意味|どう説明)")),
    ("survey", re.compile(r"(アンケート|回答率|回収率|回答者|回答数|調査対象|有効回答"
                          # how many residents do or have something now (no target asked): survey figures
                          r"|^(?!.*(目標|目指|KPI|指標|令和|年度|R\d|20\d\d|計画)).*(人|市民|世帯|高齢者)(って|は|が|の割合は)?(どれ|どの)(くらい|ぐらい))")),
    ("final_goal", re.compile(r"(最終的|最終目標|達成見込|達成する見込|いつまでに|あるべき姿|ゴール|何年度.{0,6}達成|達成.{0,6}(何年度|いつ))")),
    ("kpi", re.compile(
        r"(KPI|ＫＰＩ|目標|指標|現状値|何件|何%|何％|何人|何名|何橋|何か所|何カ所|何回|何業務|何割|何施設|何校|何機関"
        r"|どれ(くらい|ぐらい|だけ)|どの(くらい|ぐらい|程度)|いくつ|[数率割合]は|件数|人数)")),
    ("department", re.compile(r"(担当|部署|どこの課|何課|所管|どの課|誰が|どこが)")),
    ("period", re.compile(r"(いつから|いつまで|期間|何年度から|スケジュール|マイルストーン|工程|予定)")),
    ("compare", re.compile(r"(比較|違い|比べ|両市|両方の市|それぞれ|共通)")),
    ("what", re.compile(r"(何をする|何をして|内容|概要|どんな|どういう|どう変わ|とは$|について|教えて|何が|取組|取り組み)")),
]

INJECTION = re.compile(
    r"(指示を(すべて|全て)?無視|命令を無視|ルールを無視|前の指示|これまでの指示|上記の指示|システムプロンプト|system\s*prompt|"
    r"ignore (all |the )?(previous|above|prior)|disregard|you are now|あなたは(今から|これから)|開発者モード|"
    r"制約を(解除|無視)|プロンプトを(表示|出力|教え)|設定を(表示|出力)|jailbreak|DAN)",
    re.IGNORECASE,
)
FOLLOW_UP = re.compile(r"^(それ|その|この|あれ|同じ|そっち|こっち|さっき|先ほど|前の)|(それ|その施策|この施策|同施策|そちら)")


@dataclass
class Query:
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


def strip_injection(text: str) -> tuple[str, bool]:
    """Drop the sentences that carry instructions; keep any real question."""
    if not INJECTION.search(text):
        return text, False
    parts = re.split(r"(?<=[。！？!?\n])|[、,]\s*(?=.*(?:教えて|は[？?]|ですか))", text)
    kept = [p for p in parts if p and p.strip() and not INJECTION.search(p)]
    return "".join(kept).strip(), True


def city_aliases(info: PlanInfo) -> list[str]:
    city = info.city
    base = re.sub(r"[市町村区]$", "", city)
    return [a for a in {city, base} if a]


def detect_plans(text: str, plans: dict[str, PlanInfo]) -> list[str]:
    return [pid for pid, info in plans.items() if any(alias in text for alias in city_aliases(info))]


def _measure_refs(text: str, plans: dict[str, PlanInfo], scoped: list[str]) -> list[tuple[str, int]]:
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


def analyse(
    question: str,
    plans: dict[str, PlanInfo],
    known_measures: dict[str, set[int]],
    chosen_plan: str | None = None,
) -> Query:
    text = normalise(question)
    text, injected = strip_injection(text)
    named = detect_plans(text, plans)
    scoped = [chosen_plan] if chosen_plan and chosen_plan in plans else named
    refs = _measure_refs(text, plans, scoped)
    measures = [r for r in refs if r[1] in known_measures.get(r[0], set())]
    unknown = [r for r in refs if r not in measures]
    if measures and not scoped:
        scoped = list(dict.fromkeys(p for p, _ in measures))
    intents = [name for name, pattern in INTENT_PATTERNS if pattern.search(text)]
    if len(named) > 1 and "compare" not in intents:
        intents.insert(0, "compare")
    return Query(
        raw=question,
        text=text,
        plans=scoped,
        plan_named=bool(scoped),
        measures=measures,
        unknown_measures=unknown,
        years=years_in(text),
        intents=intents,
        injection=injected,
        follow_up=bool(FOLLOW_UP.search(text)) or (len(text) <= 15 and not refs and not named),
    )
