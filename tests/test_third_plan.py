"""A plan added through the manifest and the generic parser gets the same fact index and reader."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.service import Assistant
from ingest.pipeline import ingest
from tests.conftest import BigramEmbeddings, make_settings

FIXTURE = Path(__file__).parent / "fixtures" / "sample-city-plan.md"


@pytest.fixture(scope="module")
def third(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("third-plan")
    data = tmp / "plans"
    data.mkdir()
    shutil.copy(FIXTURE, data / FIXTURE.name)
    manifest = {"plans": [{"id": "kakuu", "city": "架空市", "title": "架空市DX推進計画", "source": FIXTURE.name,
                           "parser": "generic", "period": "令和8年度～令和10年度（2026年度～2028年度）"}]}
    (data / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    settings = make_settings(tmp, data_dir=data)
    embeddings = BigramEmbeddings(size=256)
    report = ingest(settings, embeddings=embeddings, progress=False)
    assert report.plans["kakuu"]["measures"] == 3 and report.facts > 10
    return Assistant(settings, embeddings)


def test_kpi_target_with_citation(third):
    answer = third.ask("架空市の書かない窓口は何手続まで増やす目標？")
    assert not answer.refused
    assert "120手続" in answer.lead
    assert ("kakuu", "1") in {(c.plan, c.measure) for c in answer.citations}


def test_baseline_with_its_date(third):
    answer = third.ask("書かない窓口の対象手続は今いくつ？")
    assert "15手続" in answer.text and "令和6年度末" in answer.text


def test_department_of_a_measure(third):
    answer = third.ask("施策No.3の担当課はどこ？")
    assert "河川課" in answer.lead
    assert answer.citations[0].measure == "3"


def test_plan_period_and_vision(third):
    assert "令和10年度" in third.ask("この計画の計画期間はいつまで？").lead
    vision = third.ask("架空市が掲げるビジョンは？")
    assert "いつでも、どこでも、だれでも" in vision.text


def test_a_year_the_plan_does_not_cover_is_refused(third):
    answer = third.ask("電子書籍の貸出数の2030年度の目標は？")
    assert answer.refused and "2030年度" in answer.text
