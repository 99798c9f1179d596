"""Pure answer-selection rules: which section line answers, which words count,
when a KPI question asks for a target the plans never set."""

from __future__ import annotations

from assistant.extractive import Composer, _captions_only, heading_score, sentence_score
from assistant.refusal import absent_counter
from assistant.rerank import boost_literal
from assistant.retrieve import Hit, MeasureHit
from ingest.chunk import Chunk
from ingest.records import PlanInfo


def _chunk(cid: str, title: str, text: str, plan: str = "nobeoka", measure: str | None = None) -> Chunk:
    return Chunk(cid, plan, measure, title, "section", text, f"【{title}】", section=cid)


def test_heading_shares_the_asked_word():
    assert heading_score("市民アンケート／4. 回答率", "回答率は？") > heading_score("市民アンケート／5. 回答方法について", "回答率は？")


def test_when_questions_prefer_a_period_heading():
    assert heading_score("市民アンケート 2. 調査期間", "いつ実施しましたか？") > heading_score("市民アンケート 1. 調査の対象", "いつ実施しましたか？")


def test_normalized_forms_match_colloquial_words():
    # こども / 手続 in the plan, 子供 / 手続き as the question's normalized words
    assert sentence_score("こどもルームの受付を電子化する", ["子供", "受け付け"], []) == 6  # characters of the words found
    assert sentence_score("各種手続をオンライン化する", ["手続き"], []) == 3
    assert sentence_score("窓口を改善する", ["子供"], []) == 0


def test_caption_only_chunks_answer_nothing():
    assert _captions_only("【図5】全体の所有率\n【図6】年代別の所有率")
    assert not _captions_only("【図5】全体の所有率\n全体のスマホ所有率は87%と高い。")


def test_section_answer_skips_caption_only_chunk():
    info = PlanInfo(id="nobeoka", city="延岡市", title="計画", source="x.txt", measure_label="重点方針")

    class Plan:
        def __init__(self):
            self.info = info

    composer = Composer({"nobeoka": Plan()})
    captions = _chunk("s6", "市民アンケート／6. スマートフォンの所有率", "【図5】全体の所有率\n【図6】年代別の所有率")
    analysis = _chunk("s8", "市民アンケート／8. 支援", "【図8】求める支援\n図5から全体のスマホ所有率は87%と高い数値である。")
    text, cites = composer.section([captions, analysis], ["スマートフォン", "所有"], "スマートフォンの所有率は何％？")
    assert "87%" in text and "【図8】" not in text and cites[0].title.endswith("支援")


def test_absent_counter():
    evidence = "協力を得る医療機関数 【12医療機関】\nダウンロード件数 76,000件"
    assert absent_counter("のべおかCOINの加盟店は何店舗まで増やすの？", evidence) == "店舗"
    assert absent_counter("参加協力を得る医療機関は何機関？", evidence) is None
    assert absent_counter("ダウンロードは何件？", evidence) is None
    assert absent_counter("目標は何人？", "受講者 500名以上") is None  # 人 and 名 count people alike
    assert absent_counter("目標はどれくらい？", evidence) is None


def _hit(plan, measure, score, text):
    hit = MeasureHit(plan, measure, "", score)
    hit.hits = [Hit(_chunk(f"{plan}{measure}", "t", text, plan, measure), score)]
    return hit


def test_literal_boost_only_for_distinctive_words():
    ranked = [_hit("n", "1", 1.0, "スマートフォン教室"), _hit("n", "2", 0.9, "のべおかCOINの加盟店")]
    assert [h.measure for h in boost_literal(ranked, "のべおかCOINって何？")] == ["2", "1"]
    many = [_hit("n", str(i), 1.0 - i / 100, "スマートフォン") for i in range(5)] + [_hit("n", "9", 0.5, "別の話")]
    before = [h.measure for h in many]
    assert [h.measure for h in boost_literal(many, "スマートフォンの話")] == before  # in every candidate: no boost


def test_everyday_words_widen_to_plan_words():
    from vectorstore.keyword import content_words, expand_words

    words = expand_words(content_words("学校の先生はタブレットを使いこなせてる？"))
    assert {"教員", "教職員", "利用"} <= set(words)
    assert expand_words(["橋梁"]) == ["橋梁"]  # plan words stay as they are


def test_a_second_kind_of_fact_comes_from_another_part():
    info = PlanInfo(id="oita", city="大分市", title="計画", source="x.txt")

    class Plan:
        def __init__(self):
            self.info = info

    composer = Composer({"oita": Plan()})
    target = _chunk("s1", "市民アンケート 1. 調査の対象", "本市に居住する市民の中から4,000人を無作為抽出", plan="oita")
    status = _chunk("s3", "市民アンケート 3. 回答状況", "郵送回答1,273件 有効回収率 36.3%", plan="oita")
    text, cites = composer.section([target, status], ["アンケート", "回収"], "アンケートは何人に送って回収率は？")
    assert "4,000人" in text and "36.3%" in text and len(cites) == 2


PLAN_TEXT = "図書の貸出ではなく、有害鳥獣対策にドローンを使う。税の納付をスマートフォンで。EBPMを進める。"


def _vocab(text: str) -> dict[str, int]:
    from vectorstore.keyword import tokenize

    return {t: i for i, t in enumerate(tokenize(text))}


def test_absent_topic_when_no_topic_word_is_in_the_plans():
    from assistant.refusal import absent_topic

    vocab = _vocab(PLAN_TEXT)
    assert absent_topic("選挙の投票がネットでできるようになる予定は？", PLAN_TEXT, vocab) == ["選挙", "投票"]
    assert absent_topic("ふるさと納税をスマホで手続きできる？", PLAN_TEXT, vocab) == ["ふるさと納税"]


def test_a_known_topic_or_its_everyday_word_keeps_the_question():
    from assistant.refusal import absent_topic

    vocab = _vocab(PLAN_TEXT)
    assert absent_topic("イノシシの被害にデジタルで対策するの？", PLAN_TEXT, vocab) == []  # イノシシ → 鳥獣
    assert absent_topic("税金をスマホで払える？", PLAN_TEXT, vocab) == []  # 税金 → 税
    assert absent_topic("EBPMってどう説明されてる？", PLAN_TEXT, vocab) == []  # a Latin term the plan uses
    assert absent_topic("ネットでできる予定は？", PLAN_TEXT, vocab) == []  # no topic at all


def test_person_names_are_not_in_the_plans():
    from assistant.refusal import absent_kind

    assert absent_kind("DXを統括する副市長（CIO）は誰？名前を教えて", "").refuse
    assert absent_kind("延岡市長は誰ですか？", "").refuse
    assert not absent_kind("重点方針1の名前は？", "").refuse


def test_bigrams_stay_inside_kanji_and_katakana_runs():
    from vectorstore.keyword import tokenize

    grams = {t for t in tokenize("畑を荒らされて困ってる") if t.startswith("b:")}
    assert not grams & {"b:てる", "b:れて", "b:を荒"}  # no bigrams across particles and endings
    assert "b:ICT" not in grams and "b:橋梁" in {t for t in tokenize("橋梁点検") if t.startswith("b:")}


def test_words_that_normalize_to_one_character_are_kept():
    from vectorstore.keyword import content_words

    assert "イノシシ" in content_words("イノシシやシカの被害")


def test_heading_names_a_latin_term():
    assert heading_score("KGI（重要目標達成指標）", "延岡市のKGIは何ですか？") > heading_score("延岡市DX推進計画（案）", "延岡市のKGIは何ですか？")


def test_rare_words_outweigh_common_ones_when_weighted():
    rarity = {"デジタル": 0.5, "鳥獣": 5.0}.get
    common = "デジタル技術を活用したデジタル社会の実現"
    rare = "ドローン等を活用し、野生鳥獣の生息域を調査する"
    terms = ["デジタル", "鳥獣"]
    assert sentence_score(common, terms, []) > sentence_score(rare, terms, [])  # by length
    assert sentence_score(rare, terms, [], rarity) > sentence_score(common, terms, [], rarity)


def test_rare_word_held_by_one_candidate_lifts_it():
    from assistant.rerank import boost_rare_words

    ranked = [_hit("n", "3", 1.0, "スマホ教室"), _hit("o", "3", 0.9, "公式アプリ（ごみ関連機能）")]
    rarity = {"ごみ": 5.7, "スマホ": 3.2}.get
    lifted = boost_rare_words(ranked, ["ごみ", "スマホ"], lambda w: rarity(w, 0.0), lambda h: h.hits[0].chunk.text)
    assert [h.measure for h in lifted] == ["3", "3"] and lifted[0].plan == "o"
    # a rare word that every candidate holds tells nothing
    same = [_hit("n", "1", 1.0, "ごみ"), _hit("n", "2", 0.9, "ごみ"), _hit("n", "4", 0.8, "ごみ")]
    assert [h.measure for h in boost_rare_words(same, ["ごみ"], lambda w: 5.7, lambda h: h.hits[0].chunk.text)] == ["1", "2", "4"]
