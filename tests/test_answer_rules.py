"""Pure rules around retrieval and refusals: which words count, when a topic or a
kind of fact is not in the plans, how the measure ranking is adjusted."""

from __future__ import annotations

from assistant.rerank import boost_literal
from assistant.retrieve import Hit, MeasureHit
from ingest.chunk import Chunk


def _chunk(cid: str, title: str, text: str, plan: str = "nobeoka", measure: str | None = None) -> Chunk:
    return Chunk(cid, plan, measure, title, "section", text, f"【{title}】", section=cid)








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




def test_rare_word_held_by_one_candidate_lifts_it():
    from assistant.rerank import boost_rare_words

    ranked = [_hit("n", "3", 1.0, "スマホ教室"), _hit("o", "3", 0.9, "公式アプリ（ごみ関連機能）")]
    rarity = {"ごみ": 5.7, "スマホ": 3.2}.get
    lifted = boost_rare_words(ranked, ["ごみ", "スマホ"], lambda w: rarity(w, 0.0), lambda h: h.hits[0].chunk.text)
    assert [h.measure for h in lifted] == ["3", "3"] and lifted[0].plan == "o"
    # a rare word that every candidate holds tells nothing
    same = [_hit("n", "1", 1.0, "ごみ"), _hit("n", "2", 0.9, "ごみ"), _hit("n", "4", 0.8, "ごみ")]
    assert [h.measure for h in boost_rare_words(same, ["ごみ"], lambda w: 5.7, lambda h: h.hits[0].chunk.text)] == ["1", "2", "4"]
