"""Tests for the fallback parser: Markdown, numbered TXT, odd input, a real PDF text."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from ingest.parsers.generic import parse
from ingest.records import ParsedPlan, PlanInfo

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "data" / "plans"
INFO = PlanInfo(id="sample", city="サンプル市", title="サンプル市DX計画", source="sample.md")

MARKDOWN = """\
# サンプル市DX計画

<p>本計画は市のDXの方向性を示します。</p>

## 第1章 計画の背景
人口減少に対応するため、
デジタル技術を活用します。

## 施策No.1 窓口のデジタル化
- 書かない窓口を導入します。
- 待ち時間を短縮します。

## 施策No.2 オンライン申請の拡充
申請をオンライン化します。\t（令和8年度）
"""

NUMBERED = """\
サンプル市DX推進計画

第1章 計画の概要

1. 計画の目的
本計画は、市民サービスの向上を目的とします。

2. 計画期間
令和8年度から令和12年度までの5年間とします。

第1章 計画の概要

2. 計画期間
必要に応じて見直します。

第2章 重点方針

重点方針1
データ活用の推進
データを分野横断で活用します。

重点方針2
人材育成
職員研修を行います。
"""


def all_strings(parsed: ParsedPlan) -> list[str]:
    records = [asdict(r) for r in (*parsed.measures, *parsed.sections, *parsed.glossary)]
    return [v for r in records for v in r.values() if isinstance(v, str)]


def test_markdown_headings_and_measures() -> None:
    parsed = parse(MARKDOWN, INFO)
    assert [(m.number, m.title) for m in parsed.measures] == [(1, "窓口のデジタル化"), (2, "オンライン申請の拡充")]
    assert parsed.measures[0].overview == "・書かない窓口を導入します。\n・待ち時間を短縮します。"
    assert "申請をオンライン化します。" in parsed.measures[1].overview
    titles = [s.title for s in parsed.sections]
    assert titles == ["サンプル市DX計画", "第1章 計画の背景"]
    assert parsed.sections[0].text == "本計画は市のDXの方向性を示します。"
    assert all(s.kind == "chapter" and s.plan == "sample" for s in parsed.sections)
    assert not any("<" in v or "\t" in v for v in all_strings(parsed))


def test_numbered_headings_and_policies() -> None:
    parsed = parse(NUMBERED, INFO)
    keys = {s.key: s for s in parsed.sections}
    assert list(keys) == ["intro", "ch1-1", "ch1-2"]
    assert keys["intro"].kind == "intro"
    # the repeated page header "第1章 …/2. 計画期間" continues the same section
    assert keys["ch1-2"].text == "令和8年度から令和12年度までの5年間とします。\n必要に応じて見直します。"
    assert [(m.number, m.title, m.overview) for m in parsed.measures] == [
        (1, "データ活用の推進", "データを分野横断で活用します。"),
        (2, "人材育成", "職員研修を行います。"),
    ]


@pytest.mark.parametrize("text", ["", "   \n\t\n", "\n\n\n"])
def test_empty_input_gives_no_records(text: str) -> None:
    parsed = parse(text, INFO)
    assert parsed.info is INFO
    assert (parsed.measures, parsed.sections, parsed.glossary) == ([], [], [])


@pytest.mark.parametrize(
    "text",
    ["#", "# \n", "第章", "No", "1.", "重点方針", "\x00\x01\x02", "No 1\nNo 1\nNo 1", "<p></p>", "★\n▲\n→", "あ" * 20000],
)
def test_odd_input_never_crashes(text: str) -> None:
    parsed = parse(text, INFO)
    assert isinstance(parsed, ParsedPlan)
    assert all("\x00" not in v for v in all_strings(parsed))


def test_real_pdf_text_parses_into_sections() -> None:
    manifest = json.loads((PLANS / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["plans"] if e["id"] == "nobeoka")
    parsed = parse((PLANS / entry["source"]).read_text(encoding="utf-8"), PlanInfo(**entry))
    assert len(parsed.sections) > 10
    assert [m.number for m in parsed.measures] == list(range(1, 8))
    assert len({s.key for s in parsed.sections}) == len(parsed.sections)
    assert not any("\t" in v or "<p" in v for v in all_strings(parsed))
