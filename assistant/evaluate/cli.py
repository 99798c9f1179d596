"""``planqa eval``: run the golden set, print a summary or JSON, write a Markdown report.

Exit codes follow :mod:`assistant.cli`: 0 done (whatever the scores), 2 invalid
input (a golden file that cannot be read, an unknown mode or backend).
Quality gates live in ``tests/test_eval_gate.py``, not here.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assistant.evaluate import harness
from assistant.evaluate.report import LABELS, MODE_LABELS, format_value, render_report
from assistant.evaluate.score import load_golden
from assistant.settings import PROJECT_ROOT

__all__ = ["default_golden_files", "load_items", "run_eval_command", "summary_text"]

EXIT_INPUT = 2
GOLDEN_DIR = PROJECT_ROOT / "tests" / "golden"


def default_golden_files() -> list[Path]:
    return sorted(GOLDEN_DIR.glob("*.jsonl"))


def load_items(paths: list[str] | None) -> tuple[list[dict[str, Any]], list[Path]]:
    """Golden items and the files they came from; ValueError (Japanese) when unusable."""
    files = [Path(p) for p in paths] if paths else default_golden_files()
    if not files:
        raise ValueError(f"ゴールデンファイルが見つかりません（{GOLDEN_DIR}/*.jsonl）")
    for path in files:
        if not path.exists():
            raise ValueError(f"ゴールデンファイルが見つかりません: {path}")
    try:
        items = load_golden(files)
    except OSError as exc:
        raise ValueError(f"ゴールデンファイルを読めません: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"ゴールデンファイルが UTF-8 ではありません: {exc}") from exc
    if not items:
        raise ValueError("ゴールデンファイルに質問が 1 件もありません")
    return items, files


def _fail(message: str) -> int:
    print(f"エラー: {message}", file=sys.stderr)
    return EXIT_INPUT


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def summary_text(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Human summary in Japanese: one column per mode, then pass rates per type."""
    modes = list(results)
    heads = [MODE_LABELS.get(m, m).split("（")[0] for m in modes]
    label_width = max(_width(label) for label in LABELS.values()) + 2
    lines = [_pad("指標", label_width) + "".join(f"{h:>12}" for h in heads)]
    for key, label in LABELS.items():
        values = [format_value(key, results[m]["metrics"]["overall"].get(key)) for m in modes]
        lines.append(_pad(label, label_width) + "".join(f"{v:>12}" for v in values))
    first = results[modes[0]]
    passed = sum(1 for i in first["items"] if i.get("passed"))
    lines.append("")
    lines.append(f"合格 {passed} / {len(first['items'])} 問（{modes[0]}）")
    by_type = first["metrics"]["by_type"]
    parts = [
        f"{name} {format_value('pass_rate', m.get('pass_rate'))}（{m.get('count')}）" for name, m in by_type.items()
    ]
    lines.append("種類別の合格率: " + "、".join(parts))
    return "\n".join(lines)


def _progress_bars(quiet: bool):
    """``(callback(mode, done, total), close())`` drawing one tqdm bar per mode on stderr."""
    if quiet:
        return None, lambda: None
    from tqdm.auto import tqdm

    bars: dict[str, Any] = {}

    def update(mode: str, done: int, total: int) -> None:
        bar = bars.get(mode)
        if bar is None:
            bar = bars[mode] = tqdm(total=total, desc=f"評価中（{mode}）", unit="問", file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def run_eval_command(args, settings) -> int:
    """Entry point of ``planqa eval`` (called from :func:`assistant.cli.cmd_eval`)."""
    from assistant.backends import BACKENDS

    try:
        items, files = load_items(getattr(args, "golden", None))
        modes = harness.parse_modes(args.compare) if getattr(args, "compare", None) else ["ours"]
    except ValueError as exc:
        return _fail(str(exc))
    backend = getattr(args, "backend", None)
    if backend and backend not in BACKENDS:
        return _fail(f"不明なバックエンドです: {backend}（使えるもの: {', '.join(BACKENDS)}）")

    update, close = _progress_bars(bool(getattr(args, "quiet", False)))
    try:
        results = harness.run_compare(settings, items, modes, progress=update, backend=backend)
    finally:
        close()

    if getattr(args, "report", None):
        path = Path(args.report)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_report(results, golden=[str(f) for f in files]), encoding="utf-8")
        print(f"レポートを書き出しました: {path}", file=sys.stderr)

    if getattr(args, "json", False):
        if getattr(args, "compare", None):
            payload: dict[str, Any] = {"modes": {m: r["metrics"] for m, r in results.items()}}
        else:
            payload = results[modes[0]]["metrics"]
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(summary_text(results))
    return 0
