"""Markdown report of an evaluation run (``planqa eval --report``).

Sections: overall metrics, metrics per question type, the modes side by side
(when more than one ran) and the failed items of the first mode. Pure
string building; the caller writes the file.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assistant.evaluate.score import METRIC_KEYS

__all__ = ["LABELS", "compare_table", "failed_table", "format_value", "md_cell", "md_table", "render_report"]

# metric key → Japanese label, in display order
LABELS: dict[str, str] = {
    "pass_rate": "合格率",
    "citation_recall": "引用の再現率",
    "citation_precision": "引用の適合率",
    "must_include_accuracy": "必須事実の正答率",
    "refusal_accuracy": "回答不能の拒否率",
    "false_refusal_rate": "誤拒否率",
    "retrieval_recall_at_1": "検索 recall@1",
    "retrieval_recall_at_5": "検索 recall@5",
    "facts_up_front": "事実が冒頭150字にある率",
    "followup_pass_rate": "続けての質問の合格率",
    "latency_p50_ms": "応答時間 p50",
    "latency_p95_ms": "応答時間 p95",
    "count": "件数",
}
# Per-type table: the count first, then the quality metrics (latencies stay in the overall table).
TYPE_COLUMNS = ("count", *(k for k in METRIC_KEYS if k != "count" and not k.startswith("latency")))
MODE_LABELS = {
    "ours": "ours（本システム）",
    "dense": "dense（ベクトルのみ）",
    "keyword": "keyword（BM25のみ）",
    "naive": "naive（LangChain 素朴構成）",
}
ANSWER_CHARS = 200


def format_value(key: str, value: Any) -> str:
    """0.8123 → ``81.2%``; latencies → ``123 ms``; None → ``—``."""
    if value is None:
        return "—"
    if key == "count":
        return str(int(value))
    if key.startswith("latency"):
        return f"{float(value):,.0f} ms"
    return f"{float(value) * 100:.1f}%"


def md_cell(value: Any) -> str:
    """One table cell: ``|`` escaped, newlines as ``<br>``."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(line.strip() for line in text.strip().splitlines())


def md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _overall_table(overall: Mapping[str, Any]) -> str:
    return md_table(["指標", "値"], [(label, format_value(key, overall.get(key))) for key, label in LABELS.items()])


def _type_table(by_type: Mapping[str, Mapping[str, Any]]) -> str:
    rows = [[name, *(format_value(k, m.get(k)) for k in TYPE_COLUMNS)] for name, m in by_type.items()]
    return md_table(["種類", *(LABELS[k] for k in TYPE_COLUMNS)], rows)


def compare_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Metrics as rows, modes as columns."""
    modes = list(results)
    rows = [
        [label, *(format_value(key, results[m]["metrics"]["overall"].get(key)) for m in modes)]
        for key, label in LABELS.items()
    ]
    return md_table(["指標", *(MODE_LABELS.get(m, m) for m in modes)], rows)


def _citations(citations: Iterable[Mapping[str, Any]]) -> str:
    keys = []
    for c in citations or []:
        key = f"{c.get('plan')}:{c.get('measure')}" if c.get("measure") is not None else f"{c.get('plan')}（節）"
        if key not in keys:
            keys.append(key)
    return "、".join(keys) or "なし"


def _short(text: str, limit: int = ANSWER_CHARS) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"


def failed_table(items: Iterable[Mapping[str, Any]]) -> str:
    rows = [
        [
            i.get("id"),
            i.get("type"),
            i.get("question"),
            ("（拒否）" if i.get("refused") else "") + _short(i.get("answer")),
            _citations(i.get("citations")),
            "; ".join(i.get("reasons") or []),
        ]
        for i in items
        if not i.get("passed")
    ]
    if not rows:
        return "不合格の項目はありません。"
    return md_table(["ID", "種類", "質問", "回答（抜粋）", "引用", "理由"], rows)


def render_report(
    results: Mapping[str, Mapping[str, Any]] | Mapping[str, Any],
    title: str = "評価レポート",
    golden: Sequence[str] = (),
) -> str:
    """Markdown for one run (``{"metrics", "items"}``) or several (``{mode: run}``).

    The overall, per-type and failed-items sections describe the first mode.
    """
    if "metrics" in results and "items" in results:
        results = {"ours": results}
    modes = list(results)
    if not modes:
        raise ValueError("レポートにする評価結果がありません")
    first = results[modes[0]]
    metrics = first["metrics"]
    out = [
        f"# {title}",
        "",
        f"- 作成: {time.strftime('%Y-%m-%d %H:%M')}",
        f"- 件数: {metrics['overall'].get('count')} 問",
        f"- 構成: {', '.join(modes)}",
    ]
    if golden:
        out.append(f"- ゴールデン: {', '.join(str(g) for g in golden)}")
    out += [
        "",
        f"## 全体の指標（{modes[0]}）",
        "",
        _overall_table(metrics["overall"]),
        "",
        f"## 質問の種類ごと（{modes[0]}）",
        "",
        _type_table(metrics["by_type"]),
        "",
    ]
    if len(modes) > 1:
        out += ["## 構成の比較", "", compare_table(results), ""]
    failed = [i for i in first["items"] if not i.get("passed")]
    out += [f"## 不合格の項目（{modes[0]}、{len(failed)} 件）", "", failed_table(first["items"]), ""]
    return "\n".join(out)
