"""Evaluation harness with fakes: run_eval scoring and reasons, report, naive mapping, CLI."""

from __future__ import annotations

import argparse
import json
from collections import Counter

import pytest

from assistant.evaluate import cli as eval_cli
from assistant.evaluate import harness
from assistant.evaluate.naive import bigrams, map_chunk, measure_text
from assistant.evaluate.report import md_cell, render_report
from assistant.settings import load_settings
from assistant.types import Answer, Citation, InvalidQuestion, Retrieved
from ingest.records import KPI, Action, Measure

GOLDEN = [
    {
        "id": "k1",
        "question": "公式アプリのダウンロード目標は？",
        "plan": "oita",
        "expected_measures": ["oita:3"],
        "must_include": ["76,000件"],
        "answerable": True,
        "type": "kpi",
    },
    {
        "id": "k2",
        "question": "教員のICT活用指導力のKPIは？",
        "plan": "oita",
        "expected_measures": ["oita:24"],
        "must_include": ["96%"],
        "answerable": True,
        "type": "kpi",
    },
    {
        "id": "u1",
        "question": "大分市の宇宙開発計画は？",
        "plan": "oita",
        "expected_measures": [],
        "must_include": [],
        "answerable": False,
        "type": "unanswerable",
    },
    {
        "id": "u2",
        "question": "延岡市の月面基地の予算は？",
        "plan": "nobeoka",
        "expected_measures": [],
        "must_include": [],
        "answerable": False,
        "type": "unanswerable",
    },
    {
        "id": "c1",
        "question": "両市の窓口改革を比べて",
        "plan": "both",
        "expected_measures": ["oita:1", "nobeoka:5"],
        "must_include": [],
        "answerable": True,
        "type": "compare",
    },
]


def _cite(key: str) -> Citation:
    plan, _, measure = key.partition(":")
    return Citation(plan, measure, "題名", "overview", "引用文 | 縦棒入り")


class FakeAssistant:
    """Answers from a table keyed by question; records the plan scope it was given."""

    def __init__(self, answers: dict[str, Answer | Exception]):
        self.answers = answers
        self.scopes: list[str | None] = []
        self.warmed = False

    def warm_up(self) -> None:
        self.warmed = True

    def ask(self, question: str, plan: str | None = None, conversation=None) -> Answer:
        self.scopes.append(plan)
        answer = self.answers[question]
        if isinstance(answer, Exception):
            raise answer
        answer.latency_ms = 12.0
        return answer


def _fake() -> FakeAssistant:
    return FakeAssistant(
        {
            GOLDEN[0]["question"]: Answer(
                GOLDEN[0]["question"],
                "ダウンロード件数は 76，000 件です。",
                [_cite("oita:3")],
                retrieved=[Retrieved("oita", "3", 0.9)],
            ),
            GOLDEN[1]["question"]: Answer(
                GOLDEN[1]["question"],
                "目標は 93% です。",
                [_cite("oita:25")],
                retrieved=[Retrieved("oita", "25", 0.8), Retrieved("oita", "24", 0.7)],
            ),
            GOLDEN[2]["question"]: Answer(GOLDEN[2]["question"], "計画にはその記載がありません。", [], refused=True),
            GOLDEN[3]["question"]: Answer(GOLDEN[3]["question"], "延岡市 重点方針5 では…", [_cite("nobeoka:5")]),
            GOLDEN[4]["question"]: InvalidQuestion("質問が長すぎます。"),
        }
    )


def test_run_eval_scores_and_reasons():
    fake = _fake()
    result = harness.run_eval(fake, GOLDEN)
    rows = {row["id"]: row for row in result["items"]}

    assert fake.warmed
    assert fake.scopes == [None] * len(GOLDEN)  # golden "plan" is never passed as a scope
    assert rows["k1"]["passed"] and rows["k1"]["reasons"] == []
    assert not rows["k2"]["passed"]
    assert rows["k2"]["reasons"] == ["not cited: oita:24", "missing: 96%"]
    assert rows["u1"]["passed"]
    assert rows["u2"]["reasons"] == ["not refused"]
    assert rows["c1"]["reasons"][:2] == ["error: 質問が長すぎます。", "refused"]
    assert not rows["c1"]["exception"]
    assert "not cited: nobeoka:5" in rows["c1"]["reasons"]
    for key in ("id", "type", "question", "answer", "citations", "refused", "passed", "reasons"):
        assert key in rows["k1"]
    assert rows["k1"]["citations"][0]["measure"] == "3"

    overall = result["metrics"]["overall"]
    assert overall["pass_rate"] == pytest.approx(2 / 5)
    assert overall["refusal_accuracy"] == pytest.approx(1 / 2)
    assert overall["count"] == 5
    assert set(result["metrics"]["by_type"]) == {"kpi", "unanswerable", "compare"}
    assert result["metrics"]["by_type"]["kpi"]["pass_rate"] == pytest.approx(1 / 2)


def test_run_eval_survives_engine_error():
    fake = FakeAssistant({GOLDEN[0]["question"]: RuntimeError("boom")})
    result = harness.run_eval(fake, GOLDEN[:1])
    row = result["items"][0]
    assert not row["passed"] and row["reasons"][0] == "error: RuntimeError: boom"
    assert row["exception"]


def test_run_eval_progress_callback():
    calls = []
    harness.run_eval(_fake(), GOLDEN, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, len(GOLDEN)) for i in range(1, len(GOLDEN) + 1)]


def test_parse_modes():
    assert harness.parse_modes("ours, naive,ours") == ["ours", "naive"]
    with pytest.raises(ValueError, match="不明な比較構成"):
        harness.parse_modes("ours,bm42")


def test_run_compare_shares_embeddings(monkeypatch):
    seen = []

    def build(settings, mode, embeddings=None, backend=None):
        seen.append((mode, embeddings))
        return _fake()

    monkeypatch.setattr(harness, "build_mode", build)
    shared = object()
    results = harness.run_compare(None, GOLDEN, ["ours", "naive"], embeddings=shared)
    assert list(results) == ["ours", "naive"]
    assert seen == [("ours", shared), ("naive", shared)]


# --------------------------------------------------------------------------- report


def test_md_cell_escapes_pipes_and_newlines():
    assert md_cell("a|b\nc") == "a\\|b<br>c"
    assert md_cell(None) == ""


def test_report_renders_tables_and_escapes():
    single = harness.run_eval(_fake(), GOLDEN)
    text = render_report({"ours": single, "naive": single})
    assert "## 全体の指標（ours）" in text
    assert "| 合格率 | 40.0% |" in text
    assert "## 質問の種類ごと" in text and "| kpi |" in text
    assert "## 構成の比較" in text and "naive（LangChain 素朴構成）" in text
    assert "不合格の項目（ours、3 件）" in text
    assert "not cited: oita:24; missing: 96%" in text
    for line in text.splitlines():
        if line.startswith("| k2 "):
            assert line.count("|") - line.count("\\|") == 7  # 6 columns, no stray separators
    single["items"][1]["answer"] = "A | B"
    assert "A \\| B" in render_report(single)


# --------------------------------------------------------------------------- naive


def test_naive_maps_chunks_to_measures():
    app = Measure(
        "oita",
        3,
        "公式アプリの機能拡充",
        overview="大分市公式アプリに子育てや防災の機能を追加し利便性を高めます。",
        kpis=[KPI("大分市公式アプリのダウンロード件数 【76,000件/累積】", 2026)],
    )
    bridge = Measure(
        "oita",
        16,
        "橋梁点検のDX",
        overview="ドローンとAIで橋梁の点検を効率化します。",
        actions=[Action("職員がタブレットで橋梁点検の記録を入力する")],
    )
    grams = {"3": bigrams(measure_text(app)), "16": bigrams(measure_text(bridge))}
    assert "76,000件" in measure_text(app)
    assert map_chunk("公式アプリに子育てや防災の機能を追加し、ダウンロード件数 76,000件を目指す", grams) == "3"
    assert map_chunk("ドローンとAIで橋梁の点検を効率化します。職員がタブレットで記録", grams) == "16"
    assert map_chunk("宮崎県デジタル化推進計画の概要と国の動向について", grams) is None
    assert map_chunk("", grams) is None
    assert bigrams("ａ Ｂc") == Counter({"aB": 1, "Bc": 1})


# --------------------------------------------------------------------------- CLI


def _args(**overrides) -> argparse.Namespace:
    values = {"golden": None, "backend": None, "compare": None, "json": False, "report": None, "quiet": True}
    values.update(overrides)
    return argparse.Namespace(**values)


@pytest.fixture
def golden_file(tmp_path):
    path = tmp_path / "mini.jsonl"
    path.write_text("\n".join(json.dumps(item, ensure_ascii=False) for item in GOLDEN) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def fake_builder(monkeypatch):
    monkeypatch.setattr(harness, "build_mode", lambda settings, mode, embeddings=None, backend=None: _fake())


def test_cli_json(golden_file, fake_builder, capsys, tmp_path):
    report = tmp_path / "out" / "report.md"
    code = eval_cli.run_eval_command(_args(golden=[str(golden_file)], json=True, report=str(report)), load_settings())
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["overall"]["pass_rate"] == pytest.approx(0.4)
    assert "kpi" in payload["by_type"]
    assert "| 合格率 | 40.0% |" in report.read_text(encoding="utf-8")


def test_cli_compare_json_and_summary(golden_file, fake_builder, capsys):
    code = eval_cli.run_eval_command(
        _args(golden=[str(golden_file)], compare="ours,keyword", json=True), load_settings()
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload["modes"]) == {"ours", "keyword"}
    assert payload["modes"]["keyword"]["overall"]["pass_rate"] == pytest.approx(0.4)

    assert eval_cli.run_eval_command(_args(golden=[str(golden_file)]), load_settings()) == 0
    out = capsys.readouterr().out
    assert "合格率" in out and "合格 2 / 5 問" in out


def test_cli_bad_golden_exits_2(tmp_path, fake_builder, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "q"}\n{not json}\n', encoding="utf-8")
    assert eval_cli.run_eval_command(_args(golden=[str(bad)]), load_settings()) == 2
    err = capsys.readouterr().err
    assert "エラー" in err and "2 行目" in err

    assert eval_cli.run_eval_command(_args(golden=[str(tmp_path / "missing.jsonl")]), load_settings()) == 2
    assert "見つかりません" in capsys.readouterr().err


def test_cli_unknown_mode_exits_2(golden_file, fake_builder, capsys):
    assert eval_cli.run_eval_command(_args(golden=[str(golden_file)], compare="ours,magic"), load_settings()) == 2
    assert "不明な比較構成" in capsys.readouterr().err


def test_default_golden_files_exist():
    files = eval_cli.default_golden_files()
    assert [f.name for f in files] == sorted(f.name for f in files)
    assert files, "tests/golden/*.jsonl がありません"
