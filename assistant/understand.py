"""Read a question: what it pins down (plan, measure number, year) and what it asks for.

Exact rules stay exact and few: a named measure number, a named city, a named
year. Everything else is a *cue* — soft evidence the fact scorer weighs, never a
road the question is sent down. Follow-ups inherit the previous turn's focus
and override only what they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.conversation import Focus
from assistant.query import detect_plans, measure_refs, normalise
from ingest.parsers.text import YEAR_MENTION, years_in
from ingest.records import PlanInfo

# What a question asks for (cue → pattern). Several may hold: 「担当課と期間は？」.
ASKS: dict[str, re.Pattern[str]] = {
    "target": re.compile(r"(目標|目指|KPI|ＫＰＩ|指標|水準|どこまで|伸ばす|増やす|減らす|引き上げ|高める|下げる|数値|見込|測る|測れ|測定"
                         r"|めざ|狙|ねら|(に|まで)(する|します|したい|増や|伸ば|上げ|減ら)|確かめ|効果を?(どう|何で)(測|確|見|評価))"),
    "baseline": re.compile(r"(現状|現在|(今|いま)(は|の|って|、|どれ|どの|何|現在|時点)|実績|これまで|時点|もともと|元々|基準|現時点"
                           r"|何年度と比べ|いつと比べ|どの年度と比べ|出発点|スタート地点|これまでに)"),
    # how many there are or were (「どのくらい来てるの？」): a soft cue for current figures, never a hard part
    "now": re.compile(r"(どのくらい|どれくらい|どれだけ|何人|何件)[^。？?]{0,10}(てる|ている|ています|いる|あった|だった|された)"),
    "department": re.compile(r"(担当|部署|どこの課|何課|所管|どの課|誰が|だれが|(は|って)(誰|だれ)|どこが|事務局|課は|課って|どこがやる|部局)"),
    "when": re.compile(r"(いつ|何年|時期|期間|スケジュール|工程|開始|始ま|始め|スタート|予定|めど|目途|頃|から[？?]|まで[？?]"
                       r"|年度から|年度まで|導入され|何月)"),
    "final": re.compile(r"(最終|達成見込|達成する見込|あるべき姿|ゴール|最後に|目指す姿"
                        r"|(いつ|何年度)まで(に|で)?[^。？?]{0,12}(見込|実現|完了|達成|導入され|終わ|終え)"
                        r"|(完了|完成|実現|達成|終わ|終了)[^。？?]{0,8}(いつ|何年)|(いつ|何年度?)(に|で|ごろ|頃)?[^。？?]{0,6}(完了|完成|終わ|終え|終了))"),
    "definition": re.compile(r"(用語|何の略|なんの略|略称|略語|(?<!こ)とは[？?何]?|って(何|なに)(?=[？?。]|$|です|なの|だろ|\s)|の意味|意味は|どういう意味"
                             r"|どう説明|どういうもの|ってどういう|って言葉|という言葉|の言葉|なんのこと|何のこと)"),
    "period": re.compile(r"((計画期間|計画の期間)(は|って|を|[？?])|(計画|プラン)[^。？?]{0,12}期間(は|って)?[、\s]*(いつから|いつまで)|対象期間|(計画|プラン|第\d期)(は|って)?[、\s]*(いつから|いつまで|何年間"
                         r"|何年度まで|何年度から|何年まで)"
                         r"|何年度?から何年度?まで|第何期)"),
    "survey": re.compile(r"(アンケート|回答率|回収率|回答者|回答数|調査対象|有効回答|何人に送|何人に配|調査期間|市民の声)"),
    "reason": re.compile(r"(なぜ|何で(?![測計判評見決すし])|なんで|どうして|理由|背景|課題|きっかけ|経緯|問題|困って)"),
    "what": re.compile(r"(何をする|何をして|何する|内容|概要|どんな|どういう|どう変わ|どう進め|どうする|どうやって|何が|取組|取り組み"
                       r"|具体的|詳しく|について|教えて|仕組み|できるように)"),
    # how something changes for people (「橋の点検ってどう変わるの？」): what will be introduced or done
    "change": re.compile(r"(どう変わ|何が変わ|(便利|楽|らく)に(なる|なり)|どう良くな|どう便利)"),
    # what users gain (「利用する親はどう便利になるの？」): the goal that says what people can then do
    "benefit": re.compile(r"((どう|何が|なにが)(便利|楽|らく)に(なる|なり)|どう良くな|どう便利|何ができるように|メリット)"),
    "compare": re.compile(r"(比較|違い|違う|比べ|両市|両方|それぞれ|どちら|どっち|共通|ずつ)"),
    # the items a list names (「どの税が対象？」「対象は何？」): an enumerated fact answers
    "items": re.compile(r"((どの|どんな|何の|なんの|どういう)[一-龥ァ-ヶー]{1,6}(が|も)?(対象|含まれ)|(何|なに|どれ)が対象"
                        r"|対象(は|って|と|に)?(なる|なっている|なってる)?[^。？?]{0,6}(何|なに|どれ)|対象となる[一-龥ァ-ヶー]{1,6}(は|って)"
                        r"|(どの|どんな|何の)(?!取組|取り組み|施策|内容|こと|事業|仕組み|方法|ところ|場所|目的|課|部|担当|年|時期|くらい|程度|ぐらい)([一-龥ァ-ヶー]{1,5}|もの)"
                        r"(から|が|を|に)?(ある|あり|使え|でき|払え|納め|[？?])|何と何|どれとどれ)"),
    # a name or a phrase (「前の計画の名前は？」「ビジョンを一言で」): a sentence that names one in 「」 answers
    "name": re.compile(r"(名前(?=(は|って|も|が何)|[^。]{0,8}([？?]|教え|知り|何|なに|いつ))(?!が(挙|あが|出))|名称|なんていう|何という|何て(いう|言う)|なんて(いう|言う)|フレーズ|スローガン|標語|題名|タイトル"
                       r"|愛称|呼び名|呼ばれ|一言で|ひとことで)"),
    # what was done before (「これまでに何を作ったの？」): what the plans report as done, in the past tense
    "past": re.compile(r"(これまで|今まで|過去に|以前|前の計画|前計画)[^。？?]{0,16}(った|した|てきた|んだ)"
                       r"|(作った|やってきた|取り組んできた|進めてきた|してきた|実施してきた)(の|か|こと|もの)?[？?]?$"),
    # the plan this one follows (「前の計画は？」「どの計画の後継？」): the sentence naming the city's earlier plan
    "earlier_plan": re.compile(r"(前の計画|前計画|以前の計画|前にあった計画|旧計画|前身)[^。？?]{0,12}(何|なに|どれ|どの|名前|名称|いつ|あった|ある|策定)"
                               r"|後継|(それより|それ以)前[^。？?]{0,12}計画|(以前|(?<![のそ])前)にも[^。？?]{0,12}計画"),
    "which_measure": re.compile(r"(どの施策|どの取組|どの取り組み|どの重点方針|何番の施策|どの事業|施策は何|施策名)"),
}
# A question asking for a quantity (its answer must hold a number about the thing asked).
QUANTITY = re.compile(r"(何[件人名回％%割校点倍万億箇ヶ手業橋施団社台店パ]|何か所|何カ所|いくつ|どれ(くらい|ぐらい|だけ)|どの(くらい|ぐらい|程度|水準)"
                      r"|数は|数を|数って|数の目標|数値|数字|率|割合|%|％|どこまで)")
# 「何回も」「何度も」「何人も」: "many times / many people", said in passing, never a number asked.
_EMPHATIC = re.compile(r"何(?:[一-龥]{1,2}|か所|カ所)も(?![らりるれろ])")  # not 「何回もらえる」


def asks_number(text: str) -> bool:
    """The text asks a quantity (何人, どのくらい, 率…), not counting 「何回も」-style emphasis."""
    return bool(QUANTITY.search(_EMPHATIC.sub("", text)))


# Counters asked for (「何人」「何件」「何店舗」…) and how the plans write a number counted that way.
_COUNTER_FORMS: dict[str, tuple[str, ...]] = {
    "人": ("人", "名"), "名": ("人", "名"), "件": ("件",), "回": ("回",), "点": ("点",), "校": ("校",),
    "店舗": ("店舗", "店"), "店": ("店舗", "店"), "社": ("社",), "台": ("台",), "橋": ("橋",), "業務": ("業務",),
    "機関": ("機関",), "団体": ("団体",), "施設": ("施設",), "手続き": ("手続き", "手続", "件"), "手続": ("手続き", "手続", "件"),
    "か所": ("か所", "カ所", "箇所", "ヶ所"), "カ所": ("か所", "カ所", "箇所", "ヶ所"), "箇所": ("か所", "カ所", "箇所", "ヶ所"),
    "冊": ("冊",), "時間": ("時間",), "日": ("日",),
}
_ASKED_COUNTER = re.compile(r"何(" + "|".join(sorted(_COUNTER_FORMS, key=len, reverse=True)) + ")")
_ASKED_RATE = re.compile(r"(何%|何％|何パーセント|割合|率([（(][^）)]{1,8}[）)])?(は|って|を|が|[、,])|何割|パーセント)")
_ASKED_PEOPLE = re.compile(r"(人数|何万人)")
_COUNT_NOUN = re.compile(r"(点)数(?=は|って|を|が|の目標|[？?])")  # 件数 may be counted in 橋, 手続…


def _shows(forms: tuple[str, ...]) -> re.Pattern[str]:
    # 「12医療機関」「400名以上」: a number, up to four letters of what is counted, the counter;
    # or a table cell 「オンライン手続き数: 410」 (the unit in the table's heading)
    alts = "|".join(forms)
    return re.compile(r"\d[\d,.]*\s*(?:万)?\s*[一-龥ァ-ヶー]{0,4}?(?:" + alts + r")|(?:" + alts + r")[^\d\s:：]{0,4}数\s*[:：]\s*\d")


UNIT_SHOWS: dict[str, re.Pattern[str]] = {name: _shows(forms) for name, forms in _COUNTER_FORMS.items()}
UNIT_SHOWS["%"] = re.compile(r"\d+(\.\d+)?\s*[%％]|\d\s*割")
UNIT_SHOWS["件"] = re.compile(UNIT_SHOWS["件"].pattern + r"|数\s*[:：]\s*\d")  # 「オンライン手続き数: 500」 (単位：件)

# Any other counter a question asks in (「何世帯」「何種類」「何地区」): a number written with it answers.
_OTHER_COUNTER = re.compile(r"何([一-龥]{1,2})")
_NOT_COUNTERS = set("年月日度時故処者事物等卒番号期章項条目曜万億千百割課部局室係班市町村県区語色型式系倍")  # 何倍: a ratio of stated figures


# 「いくつの医療機関」「橋って全部でいくつ」: the counter is the tail of the noun counted.
_HOW_MANY_OF = re.compile(r"いくつ(?:くらい|ぐらい)?の([一-龥ァ-ヶー]+)|([一-龥ァ-ヶー]+)(?:は|って|が|の数は)[^。？?、]{0,10}?いくつ")


def _counted_nouns(text: str) -> list[str]:
    found = []
    for m in _HOW_MANY_OF.finditer(text):
        noun = m.group(1) or m.group(2)
        tail = next((c for c in sorted(_COUNTER_FORMS, key=len, reverse=True) if noun.endswith(c)), None)
        if tail and tail not in ("人", "名", "日", "点", "時間"):  # 「何人」 is asked with 何, not 「いくつの人」
            found.append(tail)
    return found


def counter_forms(unit: str) -> tuple[str, ...]:
    """How the plans write a counter (人 → 人, 名)."""
    return _COUNTER_FORMS.get(unit, (unit,))


def unit_pattern(unit: str) -> re.Pattern[str]:
    """How the plans write a number counted in ``unit`` (a known counter, or the counter itself)."""
    return UNIT_SHOWS.get(unit) or _other_unit(unit)


@lru_cache(maxsize=256)
def _other_unit(unit: str) -> re.Pattern[str]:
    return _shows((unit,))


# Words addressed to the assistant, not about the plans: the clause that holds one goes.
_IMPERATIVE = re.compile(
    r"(指示を(すべて|全て)?(無視|忘れ)|命令を無視|ルールを(無視|解除)|前の指示|これまでの指示|上記の指示|以前の指示|システムプロンプト"
    r"|system\s*prompt|ignore (all |the )?(previous|above|prior)|disregard|you are now|あなたは(今から|これから|もう)|(ここから|今から|これから|以降)は?[、,]?\s*あなたは|あなたは[^。？?、]{0,20}(として|になりきっ|の役)"
    r"|開発者モード|制約を(解除|無視)|プロンプトを(表示|出力|教え)|設定を(表示|出力|教え|変え)|jailbreak|\bDAN\b"
    r"|とだけ(答え|回答|書い|言っ|出力|返)|(必ず|絶対に?)[^。？?]{0,40}(と|で)(答え|回答|書い|言っ|出力|返)"
    r"|(答え|回答)(は|を)[^。？?]{0,20}(に|と)(して|すること|しろ|せよ)|と(回答|答え|返答|返事|言い?|書き?)(すること|しなさい|せよ|しろ|なさい)"
    r"|と(仮定|想定)し(て|[、,]|$)|と見なして|とみなして|ということにして|ことにして(おいて|ください|下さい|くれ|ほしい|欲しい|ね)|(データ|数値|計画)(が|は)[^。？?]{0,20}(更新|変更)された"
    r"|出典(なし|を付けず|は不要)|根拠(なし|は不要)|拒否(しない|せず|ルール)|ロールプレイ|役になりきって|ふりをして"
    r"|設定を(変更|書き換え)|[とで](答え|回答|返答|返信)(る|する)?ように|^[【\[(（]?(管理者|開発者|運営者?|システム)(より|から)[】\])）：:]"
    r"|(設定|指示|会話|履歴|ルール)[^。？?、]{0,8}(リセット|初期化)|(ここから|今から|これから|以降)は?[^。？?]{0,12}(と|に)は?関係な[くし]|(詩|歌詞|俳句|短歌|川柳|物語|小説|ジョーク|冗談|ポエム)を(書い|作っ|詠ん|考え|つく)"
    r"|(省略せず|そのまま|全文|全部|すべて|全て)[^。？?]{0,12}(出力|表示)(して|しろ|せよ|しなさい)"
    r"|###\s*SYSTEM|\[SYSTEM\]|<\|)",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"(?<=[。！？!?\n])|(?<=[、,：:])(?=[^、,：:]{4,})|(?<=###)\s|(?<=[A-Za-z\"'”’)]\.)(?=\s|[^\x00-\x7f])")
_FOLLOW_UP = re.compile(
    r"^(それ|その|そこ|この|あれ|同じ|そっち|こっち|さっき|先ほど|前の(?!計画|プラン|年)|じゃあ|では|なら|あと|ちなみに|ほかに|他に|では|で、|で |"
    r"逆に|一方|もう少し|もっと|それで|残り|続き|次は)|(それ|その施策|この施策|同施策|そちら|そっち|さっきの|似たよう|同じよう|同様の"
    r"|どっちも|どちらも|両方とも|そういう|こういう|ああいう|そうした|こうした|そんな|こんな)")


@dataclass
class Question:
    raw: str
    text: str  # cleaned: instructions removed, widths normalised
    search_text: str  # what retrieval reads: the text plus the inherited topic on follow-ups
    plans: list[str] = field(default_factory=list)  # plan ids in scope (empty = all)
    plan_named: bool = False  # named in the question or chosen by the user
    cities_named: list[str] = field(default_factory=list)  # plan ids whose city the question names
    measures: list[tuple[str, int]] = field(default_factory=list)  # named or inherited (plan, number)
    sections: list[tuple[str, str]] = field(default_factory=list)  # inherited (plan, section key)
    measures_named: bool = False  # named in this question (not inherited)
    unknown_measures: list[tuple[str, int]] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    asks: list[str] = field(default_factory=list)  # keys of ASKS, in the order they appear
    units: list[str] = field(default_factory=list)  # counters asked (keys of UNIT_SHOWS)
    injection: bool = False
    follow_up: bool = False
    focus: Focus | None = None  # the previous turn's (in a conversation); follow_up says whether this leans on it
    same_topic: bool = False  # a follow-up about the very thing the last answer was about (「次の年は？」)
    leaning: list[str] = field(default_factory=list)  # the conversation's plan, preferred when none is named
    previous: list[tuple[str, str]] = field(default_factory=list)  # the last answer's blocks (fact groups)
    number_carried: bool = False  # 「延岡市のほうは？」 after 「観光客数の目標は？」: the number asked before is asked again
    elsewhere: list[tuple[str, str]] = field(default_factory=list)  # blocks the question asks past (「…にも同じような取組は？」)

    def asks_for(self, *names: str) -> bool:
        return any(n in self.asks for n in names)


def strip_instructions(text: str) -> tuple[str, bool]:
    """Drop the clauses that address the assistant (anywhere in the question); keep the rest."""
    if not _IMPERATIVE.search(text):
        return text, False
    clauses = [c for c in _CLAUSE.split(text) if c]
    kept = [c for c in clauses if not _IMPERATIVE.search(c)]
    cleaned = "".join(kept).strip(" 、,。:：")
    cleaned = re.sub(r"#{2,}|\[SYSTEM\]", " ", cleaned).strip()
    return cleaned, True


def split_questions(text: str) -> list[str]:
    """「…は何年度まで？部会の事務局はどこの課？」: two questions in one message, each answered
    on its own (the second as a follow-up of the first). One question stays whole."""
    parts = [p.strip() for p in re.split(r"(?<=[？?])", text) if p.strip()]
    questions = [p for p in parts if len(re.sub(r"\W", "", p)) >= 4 and p.endswith(("？", "?"))]
    if len(questions) < 2 or len(questions) > 3 or len(questions) != len(parts):
        return [text]
    return questions


_SENTENCE = re.compile(r"(?<=[。！？!?\n])")
_ASKING = re.compile(r"[？?]|何|いつ|どれ|どの|どこ|どう|誰|だれ|いくつ|いくら|教えて|知りたい|ますか|ですか|の\s*$"
                     r"|ください|下さい|願います|お願い|示して|について\s*。?\s*$")


def asking_sentences(text: str) -> str:
    """The sentences that ask (「…は何回？」), without the ones that only frame the question
    (「小学生の親です。」「記事で使いたいので正確に。」); the whole text when none asks."""
    parts = [p for p in _SENTENCE.split(text) if p.strip()]
    asking = [p for p in parts if _ASKING.search(_EMPHATIC.sub("", p))]  # 「何度も…大変です。」 only frames
    return "".join(asking) if asking and len(asking) < len(parts) else text


def asks_in(text: str) -> list[str]:
    found = [(m.start(), name) for name, pattern in ASKS.items() if (m := pattern.search(text))]
    return [name for _, name in sorted(found)]


def units_in(text: str) -> list[str]:
    """The counters a question asks a number in (「何人」→ 人, 「何％」「割合」→ %)."""
    text = _EMPHATIC.sub("", text)
    units = [m.group(1) for m in _ASKED_COUNTER.finditer(text)]
    units += [m.group(1) for m in _OTHER_COUNTER.finditer(text)
              if m.group(1)[0] not in _NOT_COUNTERS and not _ASKED_COUNTER.match(m.group(0))]
    if _ASKED_RATE.search(text):
        units.append("%")
    if _ASKED_PEOPLE.search(text) and "人" not in units:
        units.append("人")
    units += [m.group(1) for m in _COUNT_NOUN.finditer(text) if m.group(1) not in units]  # 「点数は？」: in 点
    units += [c for c in _counted_nouns(text) if c not in units]
    return list(dict.fromkeys(units))


_ERA_SPAN = re.compile(r"(?:令和|R)\s*\d+\s*年?度?\s*(?:から|～|~|〜|-|ー)\s*(\s*)(\d{1,2})\s*年度")
# 「翌年度は？」「前の年は？」: a year counted from the one the conversation is about.
_RELATIVE_YEAR = re.compile(r"(?P<next>翌年|次の年|次年度|その次の年)|(?P<prev>前年度|前の年|昨年度|その前の年)")
# 「この計画」「本計画」: the plan as a whole, not the measure or section of the last answer.
_THE_PLAN = re.compile(r"(この|その|本|今回の|同|今度の|新しい)([^。？?、]{0,4}の)?(計画|プラン)")
# 「それより前にも…計画はあった？」: before the plan just talked about, about the plans' history, not its field
_EARLIER = re.compile(r"(それより|それ以)前|以前にも|(?<![のそ])前にも")
_POINTING = re.compile(r"(^残り|^続き|^次は|それ|その|そこ|この|あれ|同じ|似た|同様|そっち|こっち|そちら|さっき|先ほど|前の(?!計画|プラン|年)|同施策"
                       r"|そういう|こういう|ああいう|そうした|こうした|そんな|こんな)")


_ALIKE_FOR = re.compile(r"[一-龥ァ-ヶー]{1,8}(向け|に|で|の方|のほう)(に)?も[、\s]*(同じ|似た|同様|そういう|こういう|ああいう)")
_NAMED_POINTER = re.compile(r"(その|この|あの)[一-龥ァ-ヶー]{2,}")
YEARLY_ASKS = {"target", "baseline", "when", "final", "now"}
FOLLOW_UP_CHARS = 40  # a longer question without a pointing word stands on its own
# 「インシデント対応訓練のほうは？」「じゃあスマホ教室は？」: a thing named and nothing asked — the last
# question again, about that thing
_ELLIPTIC = re.compile(r"^[^。？?、]{1,24}?(の(ほう|方)|について|に関して)?(は|って|も)[？?]?$")


def is_follow_up(text: str, has_own_topic: bool) -> bool:
    """A question that leans on the previous turn: it opens with a pointing or linking word,
    or it names nothing of its own besides what it asks (「担当は？」「2026年度は？」
    「計画の最終年度にはいくつまで増やす予定？」)."""
    if _FOLLOW_UP.search(text):
        return True
    return len(text) <= FOLLOW_UP_CHARS and not has_own_topic


def understand(raw: str, plans: dict[str, PlanInfo], known: dict[str, set[int]], chosen_plan: str | None = None,
               focus: Focus | None = None, topic_words=None, continues: bool = False) -> Question:
    """``topic_words(text) -> list[str]``: the question's own content words (for the
    follow-up test); ``focus``: what the previous turn was about; ``continues``: the
    question is the second half of one message (「…は何件？いつ時点の調査？」)."""
    text = normalise(raw)
    text, injected = strip_instructions(text)
    named = detect_plans(text, plans)
    scoped = [chosen_plan] if chosen_plan and chosen_plan in plans else list(named)
    refs = measure_refs(text, plans, scoped)
    measures = [r for r in refs if r[1] in known.get(r[0], set())]
    unknown = [r for r in refs if r not in measures]
    if measures and not scoped:
        scoped = list(dict.fromkeys(p for p, _ in measures))
    years = years_in(text)
    for m in _ERA_SPAN.finditer(text):  # 「令和8年度から12年度」: the second year is 令和 too
        years = sorted(set(years) | {2018 + int(m.group(2))})
    asks = asks_in(text)
    if "past" in asks and not ASKS["past"].search(asking_sentences(text)):
        asks.remove("past")  # 「…と聞きました。前の計画の名前は？」: the past tense only frames the question
    if len(named) > 1 and "compare" not in asks:
        asks.append("compare")
    q = Question(raw=raw, text=text, search_text=text, plans=scoped, plan_named=bool(scoped), cities_named=named,
                 measures=measures, measures_named=bool(measures), unknown_measures=unknown, years=years, asks=asks,
                 units=units_in(text), injection=injected)
    own = [w for w in (topic_words(text) if topic_words else []) if not ASKS_WORD.search(w)]
    if focus is not None:
        own = [w for w in own if w not in focus.topic]  # words of the earlier topic are no new topic
    if focus is not None and not years and focus.years:
        step = _RELATIVE_YEAR.search(text)
        if step:
            q.years = [y + (1 if step.group("next") else -1) for y in focus.years]
    elliptic = focus is not None and not asks and bool(_ELLIPTIC.match(text))
    if focus is not None and not measures and (continues or elliptic or is_follow_up(text, bool(own))):
        about_plan = bool(_THE_PLAN.search(text) or _EARLIER.search(text)) and not continues
        pointing = bool(_POINTING.search(_THE_PLAN.sub("", text)))
        inherit(q, focus, keep_topic=not about_plan and (continues or not own or pointing))
        if about_plan and not named and len(q.plans) == 1 and q.plans[0] in plans:
            q.search_text = f"{plans[q.plans[0]].city} {q.text}"  # 「この計画の…」: the conversation's city's plan
    if focus is not None and not q.plans and not named and len(focus.plans) == 1:
        q.leaning = list(focus.plans)  # a new topic in the same conversation stays with its city, softly
    if focus is not None and q.focus is None:
        q.focus = focus  # what the conversation was about, also for a question that stands alone
    if focus is not None and not q.follow_up and not measures and not named:
        # a question that stands on its own in a conversation may still be about the last answer's
        # measure (「機能を広げた最初の年度は…目標？」): that measure is preferred, softly
        q.previous = [(p, f"m{n}") for p, n in focus.measures] + [(p, f"s:{k}") for p, k in focus.sections]
    return q


ASKS_WORD = re.compile("|".join(p.pattern for p in [*ASKS.values(), _ASKED_COUNTER, _ASKED_RATE, _ASKED_PEOPLE])
                       + r"|年度|市$|^(予定|計画|最終|年間|年次|年次目標|数|人数|件数|回数|割合|数字|数値|人|件|話|こと|もの|ほう|方|姿|達成|実現"
                         r"|見込み|程度|具体|詳細|内容)$")


def inherit(q: Question, focus: Focus, keep_topic: bool) -> None:
    """Take over the previous turn's focus; what the follow-up names wins (a city, a year, a field).
    ``keep_topic``: the follow-up points back (それ/その) or names no topic of its own, so it is
    about the same measure or section; otherwise (「じゃあスマホ教室は？」) only the plan carries over."""
    q.follow_up = True
    q.focus = focus
    own_asks = bool(q.asks)
    switched = bool(q.cities_named) and set(q.cities_named) != set(focus.plans)
    if not q.plans and not switched:
        q.plans = list(focus.plans) if len(focus.plans) == 1 or keep_topic else []
    if not keep_topic:
        if not own_asks and _ELLIPTIC.match(q.text):  # 「じゃあスマホ教室は？」: what was asked, of another thing
            _ask_again(q, focus)
            q.units = q.units or list(focus.units)
            q.years = q.years or list(focus.years)
        return
    alike = bool(_ALIKE_FOR.search(q.text))  # 「先生向けにも同じような取組は？」: another measure like the last one
    if alike:
        q.elsewhere = [(p, f"m{n}") for p, n in focus.measures] + [(p, f"s:{k}") for p, k in focus.sections]
    if not switched and not alike:
        q.measures = list(focus.measures)
        q.sections = list(focus.sections)
        q.same_topic = True
    if not q.units and asks_number(q.text):  # 「全部でどれだけ？」 after 「何橋？」: the same counter
        q.units = list(focus.units)
    if not q.asks and alike:  # 「大分市にも同じようなものある？」: whether one exists, not the last ask (担当は？)
        q.asks = ["what"]
    if not q.asks:  # 「2026年度は？」「じゃあ延岡市は？」: the same question about something else
        _ask_again(q, focus)
        if not q.years:
            q.years = list(focus.years)
        elif not set(q.asks) & YEARLY_ASKS:  # a year alone after 「担当は？」 asks for that year's target
            q.asks = ["target"]
    if not q.units and set(q.asks) <= set(focus.asks):  # nothing new asked: in the same counter (回収率 → %)
        q.units = list(focus.units)
    # Retrieval reads the earlier topic too, so 「じゃあ延岡市は？」 finds 延岡市's measure on the same theme;
    # when the follow-up asks something of its own (「なんで必要なの？」), without what the earlier turn asked.
    topic = topic_without_asks(focus.topic) if own_asks else focus.topic
    if own_asks and set(q.asks) <= {"what", "benefit", "change"} and _NAMED_POINTER.search(q.text):
        topic = ""  # 「そのアプリって何ができる？」 names what it points at: the earlier details (ダウンロード) stay out
    q.search_text = f"{topic} {q.text}".strip()


def _ask_again(q: Question, focus: Focus) -> None:
    """A follow-up that asks nothing of its own asks the last question again (a number, if that asked one)."""
    q.asks = [a for a in focus.asks if a != "compare"]
    q.number_carried = asks_number(focus.topic)


def topic_without_asks(topic: str) -> str:
    """The earlier turn's text without its asking words and years (what it was about, not what it asked)."""
    for pattern in ASKS.values():
        topic = pattern.sub(" ", topic)
    topic = YEAR_MENTION.sub(" ", topic)
    return re.sub(r"\s+", " ", topic).strip()
