"""Unit tests for assistant.evaluate: normalisation, matching, pass rules, aggregation, loading."""

from __future__ import annotations

import json

import pytest

from assistant.evaluate.normalize import contains, normalize
from assistant.evaluate.score import (
    METRIC_KEYS,
    ItemScore,
    aggregate,
    cited_measures,
    load_golden,
    measure_key,
    percentile,
    retrieval_ranks,
    score_item,
    score_run,
)

# --------------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("494万人", "4940000人"),
        ("1.5万", "15000"),
        ("3億", "300000000"),
        ("約6万3千人", "約63000人"),
        ("1億2000万", "120000000"),
    ],
)
def test_normalize_man_oku(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和8年度", "2026年度"),
        ("令和12年度", "2030年度"),
        ("令和元年", "2019年"),
        ("令和 7 年度", "2025年度"),
        ("令和7～8年度", "2025~2026年度"),
        ("平成26年度", "2014年度"),
    ],
)
def test_normalize_reiwa(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R8", "2026"),
        ("R12年度", "2030年度"),
        ("Ｒ８", "2026"),
        ("R8 R9 R10", "202620272028"),
        ("eL-QR", "el-qr"),  # QR is not an era year
    ],
)
def test_normalize_r_years(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("76,000件", "76000件"),
        ("76，000件", "76000件"),
        ("4,940,000人", "4940000人"),
        ("1,2と3", "1,2と3"),  # not a thousands separator
    ],
)
def test_normalize_commas(text, expected):
    assert normalize(text) == expected


def test_normalize_full_width_digits_and_letters():
    assert normalize("９６％") == "96%"
    assert normalize("ＮＯ．５") == "no.5"
    assert normalize("７６，０００件") == "76000件"


def test_normalize_whitespace_and_case():
    assert normalize(" e L T A X\u3000導入 ") == "eltax導入"
    assert normalize("Key Performance Indicator") == "keyperformanceindicator"


def test_normalize_doubled_year_as_written_in_plans():
    assert normalize("2026(令和8)年度") == "2026年度"
    assert normalize("2030年度 (令和12年度)") == "2030年度"
    assert normalize("2026（令和８）年度") == "2026年度"


def test_normalize_empty():
    assert normalize("") == ""


# --------------------------------------------------------------------------- contains


@pytest.mark.parametrize(
    ("answer", "needle"),
    [
        ("目標は76000件です", "76,000件"),
        ("目標は７６，０００件です", "76,000"),
        ("年間494万人が目標です", "4,940,000人"),
        ("2026年度に実施します", "令和8年度"),
        ("令和8年度に実施します", "2026年度"),
        ("R8に策定", "令和8"),
        ("目標値は９６％", "96%"),
        ("担当は 土木管理課 です", "土木管理課"),
        ("ELTAXの導入", "eLTAX"),
    ],
)
def test_contains_true(answer, needle):
    assert contains(answer, needle)


@pytest.mark.parametrize(
    ("answer", "needle"),
    [
        ("目標は68,000件です", "76,000件"),
        ("2025年度に実施します", "令和8年度"),
        ("", "96%"),
    ],
)
def test_contains_false(answer, needle):
    assert not contains(answer, needle)


def test_contains_handles_none_answer():
    assert not contains(None, "96%")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- helpers

KPI_ITEM = {
    "id": "t-kpi-1",
    "question": "大分市公式アプリのダウンロード件数、2026年度の目標は？",
    "plan": "oita",
    "expected_measures": ["oita:3"],
    "must_include": ["76,000件"],
    "answerable": True,
    "type": "kpi",
    "source_quote": "",
}
UNANSWERABLE_ITEM = {
    "id": "t-un-1",
    "question": "大分市の予算額は？",
    "plan": "oita",
    "expected_measures": [],
    "must_include": [],
    "answerable": False,
    "type": "unanswerable",
    "source_quote": "",
}


def make_output(
    answer="",
    citations=(),
    refused=False,
    retrieved=(),
    latency_ms=100.0,
    id_="t-kpi-1",
):
    return {
        "id": id_,
        "question": "",
        "answer": answer,
        "refused": refused,
        "citations": [
            {"plan": plan, "measure": measure, "title": "", "field": "kpi", "quote": ""} for plan, measure in citations
        ],
        "retrieved": [{"plan": plan, "measure": measure, "score": 1.0} for plan, measure in retrieved],
        "latency_ms": latency_ms,
    }


def test_measure_key():
    assert measure_key("oita", "3") == "oita:3"
    assert measure_key("oita", 3) == "oita:3"
    assert measure_key("Oita", "０３") == "oita:3"
    assert measure_key("oita", None) is None
    assert measure_key(None, "3") is None


def test_cited_measures_ignores_sections():
    output = make_output(citations=[("oita", "3"), ("oita", None), ("nobeoka", "2"), ("oita", "3")])
    assert cited_measures(output) == {"oita:3", "nobeoka:2"}


def test_retrieval_ranks_unique_measures_in_order():
    output = make_output(retrieved=[("oita", "4"), ("oita", "4"), ("oita", None), ("oita", "3"), ("nobeoka", "2")])
    ranks = retrieval_ranks(output, ["oita:3", "nobeoka:2", "oita:9"])
    assert ranks == {"oita:3": 2, "nobeoka:2": 3, "oita:9": None}


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([10.0], 95) == 10.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([0, 100], 95) == pytest.approx(95.0)
    with pytest.raises(ValueError):
        percentile([1], 101)


# --------------------------------------------------------------------------- pass rules


def test_answerable_pass():
    output = make_output(
        answer="2026年度の目標は76000件（累積）です。",
        citations=[("oita", "3")],
        retrieved=[("oita", "3"), ("oita", "4")],
    )
    score = score_item(KPI_ITEM, output)
    assert score.passed
    assert score.citation_recall == 1.0
    assert score.citation_precision == 1.0
    assert (score.must_include_hits, score.must_include_total) == (1, 1)
    assert score.retrieval_ranks == {"oita:3": 1}
    assert score.recall_at_1 == 1.0 and score.recall_at_5 == 1.0
    assert score.reasons == []


def test_missing_citation_fails():
    output = make_output(answer="目標は76,000件です。", citations=[("oita", "4")])
    score = score_item(KPI_ITEM, output)
    assert not score.passed
    assert score.citation_recall == 0.0
    assert score.citation_precision == 0.0
    assert any("引用されていない" in reason for reason in score.reasons)


def test_missing_number_fails():
    output = make_output(answer="目標は68,000件です。", citations=[("oita", "3")])
    score = score_item(KPI_ITEM, output)
    assert not score.passed
    assert score.must_include_hits == 0
    assert score.missing_facts == ["76,000件"]
    assert any("含まれていない" in reason for reason in score.reasons)


def test_refused_answerable_fails():
    output = make_output(answer="76,000件", citations=[("oita", "3")], refused=True)
    score = score_item(KPI_ITEM, output)
    assert not score.passed
    assert any("拒否" in reason for reason in score.reasons)


def test_unanswerable_refused_passes():
    output = make_output(answer="計画には記載がありません。", refused=True, id_="t-un-1")
    score = score_item(UNANSWERABLE_ITEM, output)
    assert score.passed
    assert score.citation_recall is None and score.citation_precision is None
    assert score.recall_at_1 is None


def test_unanswerable_answered_fails():
    output = make_output(answer="予算は10億円です。", citations=[("oita", "1")], id_="t-un-1")
    score = score_item(UNANSWERABLE_ITEM, output)
    assert not score.passed
    assert score.citation_precision is None  # no expected measures
    assert any("回答できない" in reason for reason in score.reasons)


def test_missing_output_fails():
    assert not score_item(KPI_ITEM, None).passed
    assert not score_item(UNANSWERABLE_ITEM, None).passed


def test_extra_citation_lowers_precision_only():
    output = make_output(answer="76,000件", citations=[("oita", "3"), ("oita", "4")])
    score = score_item(KPI_ITEM, output)
    assert score.passed
    assert score.citation_recall == 1.0
    assert score.citation_precision == 0.5


def test_item_score_is_json_serialisable():
    score = score_item(KPI_ITEM, make_output(answer="76,000件", citations=[("oita", "3")]))
    json.dumps(score.to_dict(), ensure_ascii=False)


# --------------------------------------------------------------------------- aggregation


def _tiny_set():
    golden = [
        KPI_ITEM,  # pass
        {
            **KPI_ITEM,
            "id": "t-kpi-2",
            "expected_measures": ["oita:3", "nobeoka:2"],
            "must_include": ["76,000件", "90%"],
        },  # one citation and one fact missing
        {**KPI_ITEM, "id": "t-kpi-3", "type": "what"},  # refused → false refusal
        UNANSWERABLE_ITEM,  # refused → correct
        {**UNANSWERABLE_ITEM, "id": "t-un-2"},  # answered → wrong
    ]
    outputs = [
        make_output(
            answer="76,000件", citations=[("oita", "3")], retrieved=[("oita", "3")], latency_ms=100, id_="t-kpi-1"
        ),
        make_output(
            answer="76,000件",
            citations=[("oita", "3"), ("oita", "5")],
            retrieved=[
                ("oita", "5"),
                ("oita", "3"),
                ("oita", "1"),
                ("oita", "2"),
                ("oita", "4"),
                ("oita", "6"),
                ("nobeoka", "2"),
            ],
            latency_ms=200,
            id_="t-kpi-2",
        ),
        make_output(answer="お答えできません", refused=True, retrieved=[("oita", "1")], latency_ms=300, id_="t-kpi-3"),
        make_output(answer="記載がありません", refused=True, latency_ms=400, id_="t-un-1"),
        make_output(answer="10億円です", latency_ms=500, id_="t-un-2"),
    ]
    return golden, outputs


def test_aggregate_overall_metrics():
    golden, outputs = _tiny_set()
    scores = [score_item(g, o) for g, o in zip(golden, outputs, strict=True)]
    overall = aggregate(scores)["overall"]

    assert set(overall) == set(METRIC_KEYS)
    assert overall["count"] == 5
    assert overall["pass_rate"] == pytest.approx(2 / 5)
    # expected measures: 1 + 2 + 1 = 4, cited hits: 1 + 1 + 0 = 2
    assert overall["citation_recall"] == pytest.approx(2 / 4)
    # precision over items with expected and citations: hits 1 + 1, cited 1 + 2
    assert overall["citation_precision"] == pytest.approx(2 / 3)
    # facts over answerable items: 1/1 + 1/2 + 0/1
    assert overall["must_include_accuracy"] == pytest.approx(2 / 4)
    assert overall["refusal_accuracy"] == pytest.approx(1 / 2)
    assert overall["false_refusal_rate"] == pytest.approx(1 / 3)
    # expected ranks: oita:3→1 | oita:3→2, nobeoka:2→7 | oita:3→None
    assert overall["retrieval_recall_at_1"] == pytest.approx(1 / 4)
    assert overall["retrieval_recall_at_5"] == pytest.approx(2 / 4)
    assert overall["latency_p50_ms"] == pytest.approx(300)
    assert overall["latency_p95_ms"] == pytest.approx(480)


def test_aggregate_by_type():
    golden, outputs = _tiny_set()
    summary = aggregate(score_item(g, o) for g, o in zip(golden, outputs, strict=True))
    by_type = summary["by_type"]
    assert set(by_type) == {"kpi", "what", "unanswerable"}
    assert all(set(metrics) == set(METRIC_KEYS) for metrics in by_type.values())
    assert by_type["kpi"]["count"] == 2
    assert by_type["kpi"]["pass_rate"] == pytest.approx(0.5)
    assert by_type["kpi"]["refusal_accuracy"] is None
    assert by_type["what"]["false_refusal_rate"] == 1.0
    assert by_type["unanswerable"]["refusal_accuracy"] == pytest.approx(0.5)
    assert by_type["unanswerable"]["citation_recall"] is None
    assert by_type["unanswerable"]["retrieval_recall_at_1"] is None
    json.dumps(summary)


def test_aggregate_accepts_dicts_and_empty():
    golden, outputs = _tiny_set()
    dicts = [score_item(g, o).to_dict() for g, o in zip(golden, outputs, strict=True)]
    assert aggregate(dicts)["overall"]["pass_rate"] == pytest.approx(2 / 5)
    empty = aggregate([])["overall"]
    assert empty["count"] == 0
    assert all(empty[key] is None for key in METRIC_KEYS if key != "count")


def test_score_run_matches_by_id_and_handles_missing_outputs():
    golden, outputs = _tiny_set()
    result = score_run(golden, list(reversed(outputs[:-1])))  # t-un-2 has no output
    items = {item["id"]: item for item in result["items"]}
    assert items["t-kpi-1"]["passed"] is True
    assert items["t-un-2"]["passed"] is False
    assert "出力がありません" in items["t-un-2"]["reasons"]
    assert result["summary"]["overall"]["count"] == 5
    json.dumps(result, ensure_ascii=False)


def test_item_score_fields():
    assert {
        "passed",
        "citation_recall",
        "citation_precision",
        "must_include_hits",
        "must_include_total",
        "retrieval_ranks",
        "recall_at_1",
        "recall_at_5",
    } <= set(ItemScore.__dataclass_fields__)


# --------------------------------------------------------------------------- load_golden


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_golden_reads_and_skips_blank_lines(tmp_path):
    first = _write(tmp_path / "a.jsonl", [json.dumps(KPI_ITEM, ensure_ascii=False), "", "   "])
    second = _write(tmp_path / "b.jsonl", [json.dumps(UNANSWERABLE_ITEM, ensure_ascii=False)])
    assert [item["id"] for item in load_golden([first, second])] == ["t-kpi-1", "t-un-1"]
    assert [item["id"] for item in load_golden(first)] == ["t-kpi-1"]
    assert [item["id"] for item in load_golden(tmp_path)] == ["t-kpi-1", "t-un-1"]


def test_load_golden_bad_json_reports_line(tmp_path):
    path = _write(tmp_path / "bad.jsonl", [json.dumps(KPI_ITEM), "", "{not json"])
    with pytest.raises(ValueError, match=r"3 行目.*JSON として読み込めません"):
        load_golden([path])


def test_load_golden_missing_id(tmp_path):
    item = {k: v for k, v in KPI_ITEM.items() if k != "id"}
    path = _write(tmp_path / "noid.jsonl", [json.dumps(item, ensure_ascii=False)])
    with pytest.raises(ValueError, match=r"1 行目: id がないか空です"):
        load_golden([path])


def test_load_golden_missing_question(tmp_path):
    item = {**KPI_ITEM, "question": ""}
    path = _write(tmp_path / "noq.jsonl", [json.dumps(KPI_ITEM), json.dumps(item, ensure_ascii=False)])
    with pytest.raises(ValueError, match=r"2 行目: question がないか空です"):
        load_golden([path])


def test_load_golden_not_an_object(tmp_path):
    path = _write(tmp_path / "list.jsonl", ["[1, 2]"])
    with pytest.raises(ValueError, match="JSON オブジェクトではありません"):
        load_golden([path])


def test_load_golden_duplicate_id(tmp_path):
    path = _write(tmp_path / "dup.jsonl", [json.dumps(KPI_ITEM), json.dumps(KPI_ITEM)])
    with pytest.raises(ValueError, match="重複"):
        load_golden([path])
