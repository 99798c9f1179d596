"""The KPI一覧, 評価 and フィードバック tabs, and the login gate for the last two.

Access control: when ``settings.auth`` (「ユーザー:パスワード」) is set, 評価 and
フィードバック show a login form instead of their contents. A successful login
sets a per-session ``gr.State`` flag that lives on the server (API clients
cannot send it), and every protected handler checks that flag again, so
hiding the components is not the only barrier. The チャット and KPI一覧 tabs
and the ``/ask`` API stay open, as the assistant is meant for citizens.
"""

from __future__ import annotations

import csv
import hmac
import logging
import time
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr

from assistant.settings import PROJECT_ROOT
from ui.chat import AssistantLike
from ui.export import export_dir, stamp
from ui.feedback import FeedbackStore
from ui.render import ALL, KPI_HEADERS, filter_kpi_rows, kpi_rows

logger = logging.getLogger(__name__)

GOLDEN_DIR = PROJECT_ROOT / "tests" / "golden"
LOGIN_REQUIRED = "ログインしてください。"
LOGIN_FAILED = "ユーザー名またはパスワードが違います。"
EVAL_UNAVAILABLE = "評価機能（assistant.evaluate）がまだ利用できません。管理者に確認してください。"
METRIC_NAMES = {
    "pass_rate": "合格率",
    "citation_recall": "根拠の再現率",
    "citation_precision": "根拠の適合率",
    "must_include_accuracy": "必須語の正答率",
    "refusal_accuracy": "回答不能の判定率",
    "false_refusal_rate": "誤った回答拒否率",
    "retrieval_recall_at_1": "検索再現率@1",
    "retrieval_recall_at_5": "検索再現率@5",
    "latency_p50_ms": "応答時間p50(ms)",
    "latency_p95_ms": "応答時間p95(ms)",
    "count": "件数",
}
ITEM_HEADERS = ["結果", "ID", "種別", "質問", "回答", "根拠", "理由"]
FEEDBACK_HEADERS = ["日時(UTC)", "評価", "質問", "回答", "コメント"]


# --------------------------------------------------------------------------- login


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """(user, password) from 「ユーザー:パスワード」; None when login is off."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    return (user, password) if sep else ("", value)


def check_login(user: str | None, password: str | None, auth: tuple[str, str] | None) -> bool:
    """Constant-time comparison against the configured credentials (always True without auth)."""
    if auth is None:
        return True
    ok_user = hmac.compare_digest((user or "").encode(), auth[0].encode())
    ok_password = hmac.compare_digest((password or "").encode(), auth[1].encode())
    return ok_user and ok_password


# --------------------------------------------------------------------------- KPI一覧


class KpiBrowser:
    """All KPI rows of the plans, filtered on demand."""

    def __init__(self, assistant: AssistantLike) -> None:
        self.assistant = assistant
        self.error = ""
        self.rows: list[list[Any]] = []
        self.refresh()
        self.cities = list(dict.fromkeys(str(r[0]) for r in self.rows))
        self.years = sorted({str(r[1]) for r in self.rows if r[1] != ""})

    def refresh(self) -> None:
        """Re-read the measures (the engine reloads its index after a rebuild)."""
        try:
            self.rows, self.error = kpi_rows(self.assistant.measures(), self.assistant.plans), ""
        except Exception:
            logger.exception("loading measures failed")
            self.error = "KPIの一覧を読み込めませんでした。"

    def reload(self, query: str | None, plan: str | None, year: str | None) -> list[list[str]]:
        self.refresh()
        return self.filter(query, plan, year)

    def filter(self, query: str | None, plan: str | None, year: str | None) -> list[list[str]]:
        return [[str(c) for c in row] for row in filter_kpi_rows(self.rows, query, plan, year)]

    def export(self, query: str | None, plan: str | None, year: str | None) -> str:
        """CSV (UTF-8 with BOM) of the filtered rows; returns its path for gr.File."""
        path = export_dir() / f"planqa-kpi-{stamp()}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(KPI_HEADERS)
            writer.writerows(self.filter(query, plan, year))
        return str(path)


def build_kpi_tab(browser: KpiBrowser, tab: gr.Tab) -> None:
    with gr.Row():
        query = gr.Textbox(label="キーワード", placeholder="例：アプリ 件数", scale=3, elem_id="kpi-query")
        plan = gr.Dropdown([ALL, *browser.cities], value=ALL, label="市", scale=1)
        year = gr.Dropdown([ALL, *browser.years], value=ALL, label="年度", scale=1)
    if browser.error:
        gr.Markdown(f"⚠️ {browser.error}")
    table = gr.Dataframe(
        browser.filter(None, None, None), headers=KPI_HEADERS, interactive=False, wrap=True,
        elem_id="kpi-table", max_height=600,
    )
    with gr.Row():
        export = gr.Button("表示中の行をCSVで保存", size="sm")
        download = gr.File(label="CSV", interactive=False)
    for control in (query, plan, year):
        control.change(browser.filter, [query, plan, year], table, queue=False, api_visibility="private")
    export.click(browser.export, [query, plan, year], download, api_visibility="private")
    tab.select(browser.reload, [query, plan, year], table, api_visibility="private", queue=False)


# --------------------------------------------------------------------------- 評価


def _fmt_metric(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key == "count" or key.endswith("_ms"):
        return f"{value:.0f}" if isinstance(value, float) else str(value)
    if isinstance(value, float):
        return f"{value * 100:.1f}%"
    return str(value)


def metrics_table(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) for {"overall": {...}, "by_type": {type: {...}}}."""
    overall = metrics.get("overall") or {}
    by_type = metrics.get("by_type") or {}
    keys = list(dict.fromkeys([*overall, *(k for m in by_type.values() for k in m)]))
    headers = ["区分", *(METRIC_NAMES.get(k, k) for k in keys)]
    rows = [["全体", *(_fmt_metric(k, overall.get(k)) for k in keys)]]
    rows += [[str(name), *(_fmt_metric(k, m.get(k)) for k in keys)] for name, m in by_type.items()]
    return headers, rows


def _citation_text(c: Any) -> str:
    if isinstance(c, dict):
        return str(c.get("label") or f"{c.get('plan')}:{c.get('measure')}")
    return str(c)


def _reasons_text(reasons: Any) -> str:
    if isinstance(reasons, (list, tuple)):
        return "; ".join(str(r) for r in reasons)
    return "" if reasons is None else str(reasons)


def items_table(items: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            "✅ 合格" if it.get("passed") else "❌ 不合格",
            str(it.get("id", "")),
            str(it.get("type", "")),
            str(it.get("question", "")),
            str(it.get("answer", "")),
            "、".join(_citation_text(c) for c in it.get("citations") or []),
            _reasons_text(it.get("reasons")),
        ]
        for it in items
    ]


def golden_choices(golden_dir: Path = GOLDEN_DIR) -> list[str]:
    return sorted(p.name for p in golden_dir.glob("*.jsonl")) if golden_dir.is_dir() else []


class Evaluator:
    """Runs the golden set through the assistant (assistant.evaluate, imported lazily)."""

    def __init__(self, assistant: AssistantLike, golden_dir: Path = GOLDEN_DIR) -> None:
        self.assistant = assistant
        self.golden_dir = golden_dir

    def _paths(self, choice: str | None, upload: str | None) -> list[Path]:
        if upload:
            return [Path(upload)]
        if choice == ALL or not choice:
            return [self.golden_dir / name for name in golden_choices(self.golden_dir)]
        path = (self.golden_dir / choice).resolve()
        if path.parent != self.golden_dir.resolve() or not path.is_file():
            raise ValueError(f"評価ファイル「{choice}」がありません。")
        return [path]

    def run(
        self, choice: str | None, upload: str | None, authorized: bool, progress: Any = None
    ) -> tuple[str, Any, list[list[str]]]:
        """(status, metrics table update, item rows); errors come back as a Japanese status."""
        empty: tuple[Any, list[list[str]]] = (gr.update(value=[]), [])
        if not authorized:
            return LOGIN_REQUIRED, *empty
        try:
            from assistant.evaluate.harness import run_eval
            from assistant.evaluate.score import load_golden
        except ImportError:
            logger.exception("evaluation unavailable")
            return EVAL_UNAVAILABLE, *empty
        try:
            items = load_golden(self._paths(choice, upload))
        except (ValueError, OSError) as exc:
            return f"⚠️ 評価ファイルを読み込めません：{exc}", *empty
        if not items:
            return "⚠️ 評価する項目がありません。", *empty

        def report(done: int, total: int) -> None:
            if progress is not None:
                progress((done, total), desc="評価中")

        started = time.perf_counter()
        try:
            result = run_eval(self.assistant, items, progress=report)
        except Exception:
            logger.exception("evaluation failed")
            return "⚠️ 評価の実行中にエラーが発生しました。", *empty
        headers, rows = metrics_table(result.get("metrics") or {})
        item_rows = items_table(result.get("items") or [])
        passed = sum(1 for it in result.get("items") or [] if it.get("passed"))
        status = f"{len(item_rows)} 件を評価しました（合格 {passed} 件、{time.perf_counter() - started:.1f} 秒）。"
        return status, gr.update(value=rows, headers=headers), item_rows


def build_eval_tab(evaluator: Evaluator, authorized: gr.State) -> None:
    gr.Markdown("評価用の質問集（golden）で回答の正確さを測ります。")
    with gr.Row():
        choice = gr.Dropdown([ALL, *golden_choices(evaluator.golden_dir)], value=ALL, label="評価ファイル（tests/golden）")
        upload = gr.File(label="またはJSONLをアップロード", file_types=[".jsonl"], type="filepath")
    run = gr.Button("評価を実行", variant="primary", elem_id="eval-run")
    status = gr.Markdown("")
    metrics = gr.Dataframe(headers=["区分"], label="指標", interactive=False, wrap=True)
    items = gr.Dataframe(
        headers=ITEM_HEADERS, label="項目ごとの結果", interactive=False, wrap=True, max_height=600,
        column_widths=["8%", "12%", "8%", "18%", "30%", "12%", "12%"],
    )

    def handler(choice: str | None, upload: str | None, ok: bool, progress: gr.Progress = gr.Progress()):  # noqa: B008
        return evaluator.run(choice, upload, ok, progress)

    run.click(
        handler, [choice, upload, authorized], [status, metrics, items], show_progress_on=[status],
        api_visibility="private", concurrency_limit=1, concurrency_id="evaluation",
    )


# --------------------------------------------------------------------------- フィードバック


class FeedbackView:
    def __init__(self, store: FeedbackStore) -> None:
        self.store = store

    def recent(self, authorized: bool, n: int = 100) -> list[list[str]]:
        if not authorized:
            return []
        return [
            [r["created_at"], "👍" if r["rating"] > 0 else "👎", r["question"], r["answer"], r["comment"]]
            for r in self.store.list_recent(n)
        ]

    def export(self, authorized: bool) -> str | None:
        if not authorized:
            return None
        return str(self.store.export_csv(export_dir() / f"planqa-feedback-{stamp()}.csv"))


def build_feedback_tab(view: FeedbackView, authorized: gr.State) -> gr.Dataframe:
    """Lay out the tab; returns the table that a successful login fills."""
    table = gr.Dataframe(
        headers=FEEDBACK_HEADERS, label="最近のフィードバック", interactive=False, wrap=True, elem_id="feedback-table"
    )
    with gr.Row():
        refresh = gr.Button("再読み込み", size="sm")
        export = gr.Button("CSVで書き出す", size="sm")
        download = gr.File(label="CSV", interactive=False)
    refresh.click(view.recent, [authorized], table, api_visibility="private", queue=False)
    export.click(view.export, [authorized], download, api_visibility="private")
    return table


class LoginForm(NamedTuple):
    column: gr.Column
    user: gr.Textbox
    password: gr.Textbox
    button: gr.Button
    message: gr.Markdown


def login_form(visible: bool) -> LoginForm:
    """User / password boxes shown in place of a protected tab's contents."""
    with gr.Column(visible=visible) as column:
        gr.Markdown("この画面は管理者用です。ログインしてください。")
        user = gr.Textbox(label="ユーザー名")
        password = gr.Textbox(label="パスワード", type="password")
        button = gr.Button("ログイン", variant="primary")
        message = gr.Markdown("")
    return LoginForm(column, user, password, button, message)
