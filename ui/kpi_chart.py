"""KPI chart data from a measure record (no Gradio import).

A measure's KPI records become series of points — the baseline (現状値, with its
date when the plan gives one) then each year's target — whose values are the
numbers written in the record. A series with fewer than two numeric points, or
whose points are not in one unit, is not charted: it is shown as text.

* 大分市: one KPI record per fiscal year; the i-th target of each year forms
  series i (「68,000件」 in 2025, 「76,000件」 in 2026, after 「52,187件：令和5年度末」).
* 延岡市: each KPI record is its own indicator: 現状値 → R12 目標値.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ingest.records import KPI, Measure

BASELINE = "現状値"
TARGET = "目標値"
CHART_COLUMNS = ["時点", "値", "表記", "種別"]

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_BRACKET = re.compile(r"【([^】]*)】")
_UNIT_END = re.compile(r"[/／:：（(【】\s、,]")
_QUALIFIERS = re.compile(r"(以上|以下|未満|程度|参加|削減|短縮|増)$")
_DATE = re.compile(r"[：:]\s*([^：:]+)$")
_YEAR = re.compile(r"(?<!\d)20\d\d(?!\d)")


@dataclass
class Value:
    """A number as the plan writes it: 「52,187件/累積」 → 52187.0, 「件」."""

    number: float
    unit: str  # as written right after the number: 件, %, 人, 割, 橋
    prefix: str = ""  # text before the number (年間, 累計：, 資料特定時間の削減)


@dataclass
class KpiPoint:
    label: str  # when, as the plan puts it: 現状値（令和5年度末） / 2025(令和7)年度 / R12（2030年度）目標
    value: float
    written: str  # the value as written in the plan
    kind: str = TARGET  # 現状値 | 目標値

    @property
    def axis(self) -> str:
        """Short x-axis label that fits a phone: 現状値 / 2025年度 / 2030年度目標."""
        if self.kind == BASELINE:
            return BASELINE
        year = _YEAR.search(self.label)
        if year is None:
            return self.label
        return f"{year.group()}年度" + ("目標" if "目標" in self.label else "")


@dataclass
class KpiSeries:
    """One indicator of a measure: its name, unit and points in time order."""

    name: str
    unit: str
    points: list[KpiPoint] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # each point as 「時点：表記」 when not chartable

    @property
    def chartable(self) -> bool:
        return len(self.points) >= 2

    @property
    def baseline_when(self) -> str:
        """The baseline's date (令和5年度末), "" when there is no dated baseline."""
        return next((baseline_date(p.written) for p in self.points if p.kind == BASELINE), "")


def parse_value(text: str | None) -> Value | None:
    """The first number in a KPI value and the unit after it (None when there is no number)."""
    if not text:
        return None
    norm = unicodedata.normalize("NFKC", text)
    found = _NUMBER.search(norm)
    if found is None:
        return None
    rest = norm[found.end():]
    end = _UNIT_END.search(rest)
    unit = (rest[: end.start()] if end else rest).strip()
    prefix = norm[: found.start()].strip(" ：:")
    return Value(float(found.group().replace(",", "")), unit, prefix)


def base_unit(unit: str) -> str:
    """Unit without qualifiers, for checking that two values can share an axis (名以上 → 名)."""
    return _QUALIFIERS.sub("", unit)


def baseline_date(baseline: str) -> str:
    """「52,187件/累積：令和5年度末」 → 「令和5年度末」 ("" when no date is written)."""
    found = _DATE.search(unicodedata.normalize("NFKC", baseline))
    return found.group(1).strip() if found else ""


def _values(kpi: KPI) -> list[str]:
    if kpi.targets:
        return list(kpi.targets)
    return [kpi.target] if kpi.target else []


def indicator_names(kpi: KPI) -> list[str]:
    """One name per bracketed target of a record (the text before each 【…】 on its line);
    the whole text when the targets are not bracketed (延岡市)."""
    text = kpi.text.strip()
    names: list[str] = []
    pos = 0
    for found in _BRACKET.finditer(text):
        before = text[pos:found.start()]
        line = before.split("\n")[-1]
        name = line.strip(" 　・、,\n")
        names.append(name)
        pos = found.end()
    if not names:
        return [_BRACKET.sub("", text).strip(" ・")]
    return names


def _label(kpi: KPI) -> str:
    return kpi.year_label or (f"{kpi.year}年度" if kpi.year else TARGET)


def _baseline_point(baseline: str | None) -> KpiPoint | None:
    value = parse_value(baseline)
    if baseline is None or value is None:
        return None
    date = baseline_date(baseline)
    label = f"{BASELINE}（{date}）" if date else BASELINE
    return KpiPoint(label, value.number, baseline.strip(), BASELINE)


def _series(name: str, entries: list[tuple[str, str]], baseline: str | None) -> KpiSeries:
    """A series from (time label, value as written) pairs, with the baseline first.

    Charted only when every target is a number in one unit; the baseline joins when
    its unit matches (「21%（全国平均 26.9%）」 next to 「全国平均以上」 does not)."""
    start = _baseline_point(baseline)
    texts = [f"{start.label if start else BASELINE}：{baseline.strip()}"] if baseline else []
    texts += [f"{label}：{written}" for label, written in entries]
    values = [parse_value(written) for _, written in entries]
    units = {base_unit(v.unit) for v in values if v is not None}
    unit = next((v.unit for v in values if v is not None), "")
    if not entries or None in values or len(units) > 1:
        return KpiSeries(name=name, unit=unit, texts=texts)
    points = [KpiPoint(label, v.number, written, TARGET)
              for (label, written), v in zip(entries, values, strict=True) if v is not None]
    if start is not None and base_unit(parse_value(baseline).unit) in units | {""}:  # type: ignore[union-attr]
        points.insert(0, start)
    return KpiSeries(name=name, unit=unit, points=points, texts=texts)


def kpi_series(measure: Measure) -> list[KpiSeries]:
    """The measure's KPIs as series, in the plan's order; see the module doc."""
    records = [k for k in measure.kpis if k.text or _values(k)]
    if not records:
        return []
    years = [k.year for k in records]
    counts = {len(_values(k)) for k in records if _values(k)}
    yearly = len(records) > 1 and None not in years and len(set(years)) == len(years) and len(counts) == 1
    if yearly:
        n = counts.pop()
        ordered = sorted(records, key=lambda k: k.year or 0)
        latest = next(k for k in reversed(ordered) if _values(k))
        names = indicator_names(latest)
        baseline = next((k.baseline for k in ordered if k.baseline), None) if n == 1 else None
        return [
            _series(
                names[i] if i < len(names) and names[i] else measure.title,
                [(_label(k), _values(k)[i]) for k in ordered if _values(k)],
                baseline,
            )
            for i in range(n)
        ]
    out = []
    for k in records:
        values = _values(k)
        names = indicator_names(k)
        if not values:
            out.append(KpiSeries(name=names[0] or measure.title, unit="", texts=[f"{_label(k)}：{k.text.strip()}"]))
            continue
        for i, written in enumerate(values):
            name = names[i] if i < len(names) and names[i] else (names[0] or measure.title)
            out.append(_series(name, [(_label(k), written)], k.baseline if len(values) == 1 else None))
    return out


def chart_rows(series: KpiSeries) -> list[list[object]]:
    """Rows for the chart's data frame ([時点, 値, 表記, 種別]); the values are the record's numbers."""
    return [[p.axis, p.value, p.written, p.kind] for p in series.points]


def pick_series(series: list[KpiSeries], quote: str = "") -> int:
    """Index of the chartable series the cited passage is about (else the first chartable; -1 if none)."""
    chartable = [i for i, s in enumerate(series) if s.chartable]
    if not chartable:
        return -1
    squeezed = re.sub(r"\s+", "", quote or "")
    for i in chartable:
        name = re.sub(r"\s+", "", series[i].name)
        if name and name in squeezed:
            return i
    return chartable[0]
