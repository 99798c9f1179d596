"""延岡市 plan tables: the KPI table (現状値/目標値), 重点方針と重点事業, and the
重点方針とマイルストーン summary, and how their rows attach to the 7 policies."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.parsers import text as tx
from ingest.records import KPI, Measure

CHAPTER_HEAD = re.compile(r"^第(\d)章\s*(\S.*)$")
_DASH = re.compile(r"^[—―‐－ー\-–]*$")
YEAR_LABEL = re.compile(r"^R(\d{1,2})$")


@dataclass
class SummaryRow:
    """One row of 重点方針とマイルストーン: policy, 重点事業, year cells as extracted."""

    policy: str
    project: str
    labels: list[str]
    values: list[str]


def milestone_years(milestones: dict[str, str]) -> list[int]:
    return sorted(tx.reiwa_to_western(int(m.group(1))) for k in milestones if (m := YEAR_LABEL.match(k)))


def summary_rows(lines: list[str]) -> list[SummaryRow]:
    """Rows of 重点方針とマイルストーン (policy cell spans rows, so carry it down)."""
    rows: list[SummaryRow] = []
    labels: list[str] = []
    policy = ""
    for raw in lines:
        if "\t" not in raw:
            continue
        cells = tx.table_cells(raw)
        if len(cells) >= 3 and cells[0] == "重点方針":
            labels = cells[2:]
            continue
        if not labels or len(cells) != len(labels) + 2:
            continue
        policy = tx.join_cjk_spaces(cells[0]) or policy
        rows.append(SummaryRow(policy, cells[1], labels, cells[2:]))
    return rows


# --- KPI table and 重点事業 ---------------------------------------------------------------


def kpi_table(lines: list[str]) -> list[tuple[str, str, str | None, str]]:
    """(policy, KPI, 現状値, 目標値) rows; a policy cell spans rows and may wrap lines."""
    start = next((i for i, line in enumerate(lines)
                  if [c for c in tx.table_cells(line) if c][:4] == ["重点方針", "KPI", "現状値", "目標値"]), None)
    if start is None:
        return []
    rows: list[tuple[str, str, str | None, str]] = []
    policy, pending = "", ""
    for raw in lines[start + 1 :]:
        if not raw.strip():
            continue
        cells = tx.table_cells(raw)
        if len(cells) < 3:
            if len(raw.strip()) > 40 or "。" in raw:
                break
            pending += raw.strip()  # a policy name wrapped onto its own line
            continue
        name = tx.join_cjk_spaces(cells[0]) if len(cells) >= 4 else ""
        if name or (pending and not rows):
            policy = pending + name
        elif pending:
            policy += pending
        pending = ""
        kpi, base, target = cells[-3:]
        rows.append((policy, kpi, None if _DASH.match(base) else base, target))
    return rows


def key_projects(lines: list[str]) -> list[tuple[str, str, list[str]]]:
    """(category, policy name, 重点事業) from 重点方針と重点事業; names may wrap lines."""
    start = next((i for i, line in enumerate(lines) if re.match(r"^\d+\.\s*重点方針と重点事業$", line.strip())), None)
    if start is None:
        return []
    found: list[tuple[str, str, list[str]]] = []
    category, name = "", ""
    for raw in lines[start + 1 :]:
        line = raw.strip()
        if not line or CHAPTER_HEAD.match(line) or re.match(r"^\d+\.\s*重点方針と重点事業$", line):
            continue
        cat = re.match(r"^【(地域DX|行政DX)】$", line)
        if cat:
            category, name = cat.group(1), ""
        elif line.startswith("【重点事業】"):
            items = [tx.one_line(p) for p in line.removeprefix("【重点事業】").split("、")]
            found.append((category, name, [p for p in items if p]))
            name = ""
        elif "。" in line:
            name = ""
        else:
            name += line
    return found


def match_policy(name: str, measures: list[Measure], fallback: int) -> Measure | None:
    best = max(measures, key=lambda m: tx.similarity(name, m.title), default=None)
    if best is not None and tx.similarity(name, best.title) >= 0.5:
        return best
    return measures[fallback] if 0 <= fallback < len(measures) else None


def policy_label(name: str, measures: list[Measure], order: list[str]) -> tuple[Measure | None, str]:
    """The measure a table's policy cell names (by title, else by its order) and a display label."""
    if name not in order:
        order.append(name)
    measure = match_policy(name, measures, order.index(name))
    return measure, (f"重点方針{measure.number} {measure.title}" if measure else name)


def attach_kpis(measures: list[Measure], rows: list[tuple[str, str, str | None, str]],
                 year: int | None) -> list[str]:
    """Add the KPI table rows to their measures; returns each row's policy label."""
    label = f"R{year - 2018}（{year}年度）目標" if year else ""
    order: list[str] = []
    labels: list[str] = []
    for policy, kpi, base, target in rows:
        measure, shown = policy_label(policy, measures, order)
        labels.append(shown)
        if measure is not None:
            measure.kpis.append(KPI(text=kpi, year=year, year_label=label, targets=[target], baseline=base,
                                    target=target))
    for measure in measures:
        if measure.kpis and year:  # the table names no year; say so rather than imply it was read
            measure.notes.append(f"KPI表の目標値に年度の明記はなく、計画期間の最終年度 R{year - 2018}（{year}年度）"
                                 "として記録。現状値の時点も表に明記なし。")
    return labels


def fill_from_summary(measures: list[Measure], summary: list[SummaryRow]) -> None:
    """Actions without their own table take a summary row only when every year cell is filled."""
    order: list[str] = []
    for row in summary:
        measure, _ = policy_label(row.policy, measures, order)
        if measure is None or not all(row.values) or len(row.values) != len(row.labels):
            continue
        for action in measure.actions:
            if not action.milestones and tx.similarity(action.title, row.project) >= 0.8:
                action.milestones = {k: f"{row.project}: {v}" for k, v in zip(row.labels, row.values, strict=True)}
                action.years = milestone_years(action.milestones)


def attach_projects(measures: list[Measure], found: list[tuple[str, str, list[str]]]) -> None:
    order: list[str] = []
    for category, name, items in found:
        measure, _ = policy_label(name, measures, order)
        if measure is not None:
            measure.category = category
            measure.key_projects = items
