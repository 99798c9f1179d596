"""Terms a question names literally: a glossary-less term it asks the meaning of (the sentence
that defines it answers), and distinctive names (らくらく窓口, のべおかCOIN) the facts hold verbatim."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from assistant.fact_search import FactTable

B_DEFINES = 0.5  # a sentence that defines a term the question asks about and the glossary lacks
B_LITERAL = 0.15  # a distinctive term of the question (quoted, katakana or Latin) the fact holds verbatim
LITERAL_MAX_FACTS = 12  # a term this many facts hold is not distinctive


_ASKED_TERM = re.compile(r"(?:^|[\s、。「『の])([^\s、。「」『』のはが]{2,14}?)[」』]?(?:って(?:何|なに|どういう)|とは|の意味)")


def defining_bonus(text: str, table: FactTable) -> np.ndarray | None:
    """「らくらく窓口って何？」 with no glossary entry: the sentence that defines the term
    (「…システム（らくらく窓口）」「Xとは…」「「X」は…」) answers it."""
    terms = {t for t in _ASKED_TERM.findall(text)} | {a or b for a, b in _LITERAL.findall(text)}
    terms = {t for t in terms if len(t) >= 2 and t.upper() not in _NOT_LITERAL and t not in table.glossary_names.values()}
    if not terms:
        return None
    bonus = np.zeros(len(table.facts), dtype=np.float32)
    for term in terms:
        defining = re.compile(rf"[（(]{re.escape(term)}[）)]|{re.escape(term)}」?とは|「{re.escape(term)}」(?:は|という|とは)")
        for i in table.holders(term):
            if defining.search(table.facts[i].text):
                bonus[i] = B_DEFINES
    return bonus if bonus.any() else None


_LITERAL = re.compile(r"[「『\"]([^」』\"]{2,30})[」』\"]|([A-Za-z][A-Za-z0-9\-]{2,}|[ァ-ヶー]{3,}[ァ-ヶー一-龥]*)")
_NOT_LITERAL = {"DX", "KPI", "NO", "ICT", "デジタル", "システム", "サービス", "オンライン", "アプリ", "スマホ", "データ"}


def literal_bonus(text: str, table: FactTable) -> np.ndarray | None:
    """Facts holding a distinctive term of the question verbatim (らくらく窓口, のべおかCOIN…)."""
    terms = {a or b for a, b in _LITERAL.findall(text)}
    terms = {t for t in terms if t.upper() not in _NOT_LITERAL and t not in _NOT_LITERAL}
    if not terms:
        return None
    bonus = np.zeros(len(table.facts), dtype=np.float32)
    for term in terms:
        holders = table.holders(term)
        if 0 < len(holders) <= LITERAL_MAX_FACTS:
            bonus[holders] += B_LITERAL
    return bonus if bonus.any() else None
