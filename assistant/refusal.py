"""Decide from evidence that the plans do not answer a question.

Signals: the question asks for a kind of fact the plans never state (budgets,
people's names, contact details), names a place the corpus never mentions, asks
for a year the measure has no target for, or retrieval found nothing close.
Thresholds are calibrated on the golden set (see README, 評価).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Kinds of facts the plans do not state. ``shows`` is what the retrieved text
# would contain if it did state one (None: the plans never do).
_YEN = re.compile(r"\d[\d,]*\s*(千|万|億)?円")
# 「回収率はいくら？」 asks for a rate, not money: いくら after a rate or a count is no budget question.
ABSENT_KINDS: list[tuple[str, re.Pattern[str], re.Pattern[str] | None]] = [
    ("予算・費用の額", re.compile(r"(予算|事業費|財源|(費用|金額|コスト|お金)(は|って|が)?(いくら|どのくらい|どれくらい|何円)|(?<![率数値])(?<![率数値][はがって])(?<![率数値]って)いくら|何円)"),
     _YEN),
    ("利用にかかる料金", re.compile(r"((お金|料金|費用|利用料|使用料|手数料|参加費|受講料|会費)(は|が|って)?(かか|掛か|いる|要る|必要|発生|いくら)|有料|無料)"),
     re.compile(_YEN.pattern + r"|無料|有料")),
    ("報酬・謝礼の額", re.compile(r"(謝礼|日当|報酬|給料|給与|時給|ギャラ|手当(は|って|が|を|も)?(いくら|出る|もらえ|ある))"),
     _YEN),
    # 「本部長は誰？」 is answered by a role (市長), 「課長の名前は？」 by nobody
    ("人名", re.compile(r"((市長|課長|(?<!本)部長|局長|担当者|責任者|委員長|代表者|CIO|CDO|CEO)[^。？?]{0,12}(名前|氏名|誰|だれ)|氏名)"), None),
    ("連絡先", re.compile(r"(電話番号|メールアドレス|連絡先|住所|URL|ホームページのアドレス)"),
     re.compile(r"(\d{2,4}-\d{2,4}-\d{3,4}|@|https?://)")),
    ("事業者名", re.compile(r"(ベンダー|委託先|委託業者|請負業者|業者名|事業者名|会社名|どこの会社|メーカー)"), None),
    ("おすすめの製品", re.compile(r"(おすすめ|オススメ|お勧め|機種|どれがいい|買うべき)"), None),
]
_PLACE = re.compile(r"(?<![一-龥])([一-龥]{1,4}|[ァ-ヶー]{2,8})(市|町|村|県|都|府)(?![民長役議内外部域政場町村立税債営])")
_GENERIC_PLACES = {"本市", "全市", "都市", "市町村", "都道府県", "各市", "同市", "当市", "市区町村", "両市", "他市", "二市",
                   "近隣市", "各市町村", "市区", "他県", "各県", "全県", "本県", "同県", "当県", "県", "都", "府",
                   "政令市", "中核市", "自治体"}


@dataclass
class Verdict:
    refuse: bool
    reason: str = ""


def absent_kind(question: str, evidence: str) -> Verdict:
    for label, asks, shows in ABSENT_KINDS:
        if asks.search(question) and (shows is None or not shows.search(evidence)):
            return Verdict(True, label)
    return Verdict(False)


def unknown_places(question: str, corpus: str) -> list[str]:
    places = []
    for m in _PLACE.finditer(question):
        name = m.group(1) + m.group(2)
        if name not in _GENERIC_PLACES and name not in corpus:
            places.append(name)
    return places


def place_names(question: str) -> list[str]:
    """Specific places the question names (大分県, 別府市), generic ones (本市, 県) left out."""
    names = [m.group(1) + m.group(2) for m in _PLACE.finditer(question)]
    return [n for n in dict.fromkeys(names) if n not in _GENERIC_PLACES]


_AREA = re.compile(r"(?<![一-龥])[一-龥]{1,4}(?:地区|校区)")


def area_names(text: str) -> list[str]:
    """Places a fact names: towns and villages (北浦町), districts (三川内地区)."""
    return [*place_names(text), *(m.group(0) for m in _AREA.finditer(text))]


_METRIC = re.compile(r"([一-龥ァ-ヶー]{1,8}(?:率|割合|者数))")  # rates and counts of people: 件数/人数 say only "how many"


def absent_metric(question: str, corpus: str) -> str | None:
    """A measured quantity the question names (交付率, 利用者数…) that the plans never mention."""
    for m in _METRIC.finditer(question):
        name = m.group(1)
        if re.search(r"(削減|短縮|向上|減少|増加|達成|改善|利用|参加)(率|割合)$", name):
            continue  # rates of change: the plans state them as 「50%短縮」 etc.
        # Try the name and its shorter tails (「カードの交付率」→「交付率」).
        if not any(name[i:] in corpus for i in range(0, max(1, len(name) - 1))):
            return name
    return None


# Words that say how, not what (ネットで, 予定, サービス): they never make a topic.
_NOT_TOPICS = {
    "ネット", "インターネット", "スマホ", "スマートフォン", "オンライン", "アプリ", "サービス", "デジタル", "予定",
    "手続き", "手続", "システム", "電子", "導入", "利用", "仕組み", "市役所", "役所", "市民", "計画", "施策", "取組",
    "対策", "情報", "目標", "予算", "年度", "名前", "誰", "用語集", "用語", "説明", "意味", "内容", "状況",
    "つもり", "はず", "わけ",  # formal nouns: they shape the sentence, they name nothing
    "年次", "年間", "毎年", "今年", "来年", "昨年", "今年度", "来年度", "昨年度",  # when, not what
}


def absent_topic(question: str, corpus: str, vocabulary) -> list[str]:
    """The question's topic nouns when none of them occurs anywhere in the plans
    (「図書館の本をネットで予約」→ 図書館, 予約); empty when any does, or when it names
    a Latin term the plans use (EBPM)."""
    from vectorstore.keyword import GENERIC_WORDS, compound_nouns, expand_words

    if any(w in corpus for w in re.findall(r"[A-Za-z][A-Za-z0-9\-]+", question)):
        return []
    nouns = [(s, n) for s, n in compound_nouns(question)
             if len(s) >= 2 and s not in _NOT_TOPICS and n not in _NOT_TOPICS and n not in GENERIC_WORDS
             and not re.fullmatch(r"[ぁ-ゖ]{1,2}", s)]  # じい, うち: fragments of everyday speech
    if not nouns:
        return []

    def present(surface: str, form: str) -> bool:
        words = expand_words([surface, form])
        return any(f"w:{w}" in vocabulary or w in corpus for w in words)  # the index first: no corpus scan

    absent = [s for s, n in nouns if not present(s, n)]
    return absent if len(absent) == len(nouns) else []


def carried_topic(question: str, earlier_topic: str, here: str, elsewhere: str) -> list[str]:
    """Nouns of the question that the earlier turn was about too, which the other city's plan
    (``elsewhere``) mentions and the asked city's plan (``here``) never does (橋 in 延岡市)."""
    from vectorstore.keyword import compound_nouns

    return [s for s, _ in compound_nouns(question) if s in earlier_topic and s in elsewhere and s not in here
            and not re.fullmatch(r"[ぁ-ゖ]+", s)]
