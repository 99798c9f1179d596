"""Decide from evidence that the plans do not answer a question.

Signals: the question asks for a kind of fact the plans never state (budgets,
people's names, contact details), names a place the corpus never mentions, asks
for a year the measure has no target for, or retrieval found nothing close.
Thresholds are calibrated on the golden set (see README, 評価).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Kinds of facts the plans do not contain unless the retrieved text shows them.
ABSENT_KINDS: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    ("予算・費用", re.compile(r"(予算|費用|事業費|金額|いくら|何円|コスト|財源|補助金額)"), re.compile(r"\d[\d,]*\s*(千|万|億)?円")),
    ("人名", re.compile(r"(名前|氏名|誰(です|なの|？|\?|$)|だれ|市長は|担当者は)"), re.compile(r"[氏様]|市長\s*[一-龥]{2,}")),
    ("連絡先", re.compile(r"(電話番号|メールアドレス|連絡先|住所|URL|ホームページのアドレス)"), re.compile(r"(\d{2,4}-\d{2,4}-\d{3,4}|@|https?://)")),
]
_PLACE = re.compile(r"([一-龥ぁ-んァ-ヶ]{1,4}(?:市|町|村|区|県|都|府))")
_GENERIC_PLACES = {"本市", "全市", "都市", "市町村", "都道府県", "各市", "同市", "当市", "市区町村", "県", "都", "府", "区",
                   "両市", "他市", "二市", "2市", "他の市", "近隣市", "各市町村", "市区", "地区", "校区", "自治区"}


@dataclass
class Verdict:
    refuse: bool
    reason: str = ""


def absent_kind(question: str, evidence: str) -> Verdict:
    for label, asks, shows in ABSENT_KINDS:
        if asks.search(question) and not shows.search(evidence):
            return Verdict(True, label)
    return Verdict(False)


def unknown_places(question: str, corpus: str) -> list[str]:
    places = []
    for m in _PLACE.finditer(question):
        name = m.group(1)
        # Trim leading particles/kana that the pattern swallowed (「と別府市」).
        name = re.sub(r"^[ぁ-ん]+", "", name)
        if len(name) >= 2 and name not in _GENERIC_PLACES and name not in corpus:
            places.append(name)
    return places


def weak_evidence(max_dense: float, max_keyword: float, dense_floor: float, keyword_floor: float) -> bool:
    return max_dense < dense_floor and max_keyword < keyword_floor
