"""The planqa CLI in-process: exit codes, JSON shapes, batch order, measures listing."""

from __future__ import annotations

import json

import pytest

from assistant.cli import main
from tests.conftest import FakeEmbeddings


@pytest.fixture
def cli_env(fake_index, monkeypatch):
    settings, embeddings = fake_index
    monkeypatch.setenv("PLANQA_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("PLANQA_CACHE_DIR", str(settings.cache_dir))
    monkeypatch.setattr("ingest.pipeline.build_embeddings", lambda s, progress=False: embeddings)
    return settings


def test_ask_json(cli_env, capsys):
    assert main(["ask", "施策No.3の2026年度の目標は？", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert not out["refused"] and "76,000件" in out["text"]
    assert out["citations"][0]["plan"] == "oita" and out["citations"][0]["measure"] == "3"


def test_ask_text_shows_citations(cli_env, capsys):
    assert main(["ask", "重点方針2のKPIは？"]) == 0
    out = capsys.readouterr().out
    assert "根拠:" in out and "延岡市 重点方針2" in out


def test_refusal_exits_zero(cli_env, capsys):
    assert main(["ask", "施策No.999は？", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["refused"] is True


@pytest.mark.parametrize("argv", [["ask", ""], ["ask", "x" * 3000], ["ask", "目標は？", "--plan", "tokyo"]])
def test_invalid_input_exits_two(cli_env, capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("エラー:") and "Traceback" not in err


def test_missing_index_exits_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PLANQA_INDEX_DIR", str(tmp_path / "none"))
    monkeypatch.setattr("ingest.pipeline.build_embeddings", lambda s, progress=False: FakeEmbeddings(size=8))
    assert main(["ask", "公式アプリの目標は？"]) == 1
    assert "planqa ingest" in capsys.readouterr().err


def test_batch_keeps_order_and_shape(cli_env, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    rows = [{"id": "a", "question": "施策No.3の2026年度の目標は？", "extra": 1}, {"id": 2, "question": ""},
            {"id": "c", "question": "重点方針2のKPIは？"}]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(src), "--output", str(out), "--quiet"]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["a", 2, "c"]
    keys = {"id", "question", "answer", "refused", "citations", "retrieved", "latency_ms"}
    assert all(keys <= set(line) for line in lines)
    assert lines[0]["citations"][0] == {**lines[0]["citations"][0], "plan": "oita", "measure": "3"}
    assert set(lines[0]["citations"][0]) == {"plan", "measure", "title", "field", "quote"}
    assert lines[1]["refused"] is True and "空" in lines[1]["answer"]
    assert all(set(r) == {"plan", "measure", "score"} for r in lines[2]["retrieved"])


def test_batch_bad_file_exits_two(cli_env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    assert main(["batch", str(bad), "--output", str(tmp_path / "o.jsonl")]) == 2


def test_measures_json(capsys):
    assert main(["measures", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 39
    assert all({"plan", "number", "title", "kpis", "actions"} <= set(r) for r in records)
    assert main(["measures", "--plan", "nowhere"]) == 2


def test_help_explains(capsys):
    assert main(["--help"]) == 0
    assert "ingest" in capsys.readouterr().out
