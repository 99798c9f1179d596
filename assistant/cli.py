"""The ``planqa`` command. Each subcommand is a thin adapter over a library call.

Exit codes: 0 success (an answer or a refusal), 1 environment problem (missing
index or model), 2 invalid input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from assistant.settings import Settings, load_settings
from assistant.types import InvalidQuestion

EXIT_ENV = 1
EXIT_INPUT = 2


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _fail(message: str, code: int) -> int:
    print(f"エラー: {message}", file=sys.stderr)
    return code


def cmd_ingest(args, settings: Settings) -> int:
    from ingest.pipeline import ingest

    report = ingest(settings, only=args.plan, progress=not args.quiet, log=lambda m: print(m, file=sys.stderr))
    if args.json:
        _print_json(asdict(report))
        return 0
    for pid, counts in report.plans.items():
        print(f"{pid}: 施策 {counts['measures']} 件 / 節 {counts['sections']} 件 / 用語 {counts['glossary']} 件 / "
              f"チャンク {counts['chunks']} 件 / 事実 {counts.get('facts', 0)} 件")
    print(f"合計 {report.chunks} チャンク・{report.facts} 事実（新たに埋め込み {report.embedded} 件）{report.seconds:.1f} 秒  "
          f"索引: {report.generation}")
    return 0


def cmd_measures(args, settings: Settings) -> int:
    from ingest.chunk import format_kpi
    from ingest.pipeline import parse_plans

    plans = parse_plans(settings, args.plan)
    if args.json:
        _print_json([m.to_dict() for p in plans for m in p.measures])
        return 0
    for plan in plans:
        print(f"■ {plan.info.city} {plan.info.title}（{len(plan.measures)} 件）")
        for m in plan.measures:
            print(f"  {plan.info.measure_label}{m.number} {m.title}")
            for k in m.kpis:
                when = f"{k.year}年度" if k.year else ""
                print(f"      KPI {when}: {format_kpi(k)}")
    return 0


def _assistant(settings: Settings, backend: str | None):
    """The assistant. The query embedding model starts opening in the background
    first, while the answering code is imported and the index is read."""
    from vectorstore.runtime import prefetch

    prefetch(settings)
    from assistant.service import build_assistant

    return build_assistant(settings, backend)


def cmd_ask(args, settings: Settings) -> int:
    assistant = _assistant(settings, args.backend)
    try:
        answer = assistant.ask(args.question, plan=args.plan)
    except InvalidQuestion as exc:
        return _fail(str(exc), EXIT_INPUT)
    if args.json:
        _print_json(answer.to_dict())
        return 0
    print(answer.text)
    if answer.notice:
        print(f"\n（{answer.notice}）")
    if answer.citations:
        print("\n根拠:")
        for c in answer.citations:
            print(f"  - {c.label}［{c.field}］「{c.quote}」")
    return 0


def cmd_batch(args, settings: Settings) -> int:
    from assistant.batch import run_batch

    try:
        count = run_batch(_assistant(settings, args.backend), Path(args.input), Path(args.output), progress=not args.quiet)
    except InvalidQuestion as exc:
        return _fail(str(exc), EXIT_INPUT)
    print(f"{count} 件を {args.output} に書き出しました。", file=sys.stderr)
    return 0


def cmd_eval(args, settings: Settings) -> int:
    from assistant.evaluate.cli import run_eval_command

    return run_eval_command(args, settings)


def cmd_serve(args, settings: Settings) -> int:
    from ui.server import serve

    serve(settings)
    return 0


def cmd_models(args, settings: Settings) -> int:
    from vectorstore.model_files import check_model, install_model
    from vectorstore.onnx_export import check_onnx, ensure_onnx

    if args.action == "install":
        path = install_model(settings.model_dir, force=args.force)
        print(f"埋め込みモデルを用意しました: {path}")
        onnx = ensure_onnx(settings.model_dir, force=args.force, log=lambda m: print(m, file=sys.stderr),
                           precision=settings.embedding_precision)
        print(f"ONNX 版（質問の埋め込み用）を用意しました: {onnx}")
        return 0
    status = check_model(settings.model_dir, full=True, progress=True)
    print(status.message if not status.ok else f"OK: {status.path}（SHA-256 一致）")
    if not status.ok:
        return EXIT_ENV
    onnx = check_onnx(settings.model_dir, full=True, progress=True, precision=settings.embedding_precision)
    print(onnx.message if not onnx.ok else f"OK: {onnx.path}（ONNX 版、SHA-256 一致）")
    return 0 if onnx.ok else EXIT_ENV


def cmd_settings(args, settings: Settings) -> int:
    from vectorstore.runtime import runtime_note

    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = "********" if "key" in name and value else value
        print(f"PLANQA_{name.upper():<28} {shown!s:<50} {field.description}")
    print(f"\n注: {runtime_note(settings)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planqa",
        description="自治体DX計画（大分市・延岡市）に日本語で答え、根拠の施策番号を示します。",
        epilog="設定は環境変数 PLANQA_* で変えられます（一覧: planqa settings）。",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="コマンド")

    p = sub.add_parser("ingest", help="計画を解析して索引を作る（変更のないチャンクは再埋め込みしない）")
    p.add_argument("--plan", help="この計画 ID だけ取り込み直す（例: oita, nobeoka）")
    p.add_argument("--json", action="store_true", help="結果を JSON で出力")
    p.add_argument("--quiet", action="store_true", help="進捗バーを出さない")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("measures", help="施策・重点方針と KPI の一覧")
    p.add_argument("--plan", help="計画 ID で絞り込む")
    p.add_argument("--json", action="store_true", help="全項目を JSON で出力")
    p.set_defaults(func=cmd_measures)

    p = sub.add_parser("ask", help="質問に答える（根拠の施策番号つき）")
    p.add_argument("question", help="質問文（例: 公式アプリの2026年度の目標は？）")
    p.add_argument("--plan", help="計画を限定（oita / nobeoka / both）")
    p.add_argument("--backend", help="extractive / openai / ollama（既定は設定値）")
    p.add_argument("--json", action="store_true", help="回答オブジェクトを JSON で出力")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("batch", help="JSONL の質問をまとめて回答する")
    p.add_argument("input", help="入力 JSONL（各行に id と question）")
    p.add_argument("--output", "-o", required=True, help="出力 JSONL")
    p.add_argument("--backend", help="extractive / openai / ollama")
    p.add_argument("--quiet", action="store_true", help="進捗バーを出さない")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("eval", help="ゴールデン Q&A で正答率などを測る")
    p.add_argument("--golden", nargs="*", help="ゴールデン JSONL（既定: tests/golden/*.jsonl）")
    p.add_argument("--backend", help="extractive / openai / ollama")
    p.add_argument("--compare", help="比較する検索構成（ours,dense,keyword,naive）をカンマ区切りで")
    p.add_argument("--json", action="store_true", help="指標を JSON で出力")
    p.add_argument("--report", help="Markdown レポートの出力先")
    p.add_argument("--quiet", action="store_true", help="進捗バーを出さない")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="Web UI と HTTP API を起動（既定 http://127.0.0.1:7860、API は /api/docs）")
    p.add_argument("--host", help="待ち受けアドレス（既定 127.0.0.1）")
    p.add_argument("--port", type=int, help="ポート（既定 7860）")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("models", help="埋め込みモデルの取得・検査")
    p.add_argument("action", choices=["install", "verify"], help="install: 取得して検証 / verify: ハッシュを検査")
    p.add_argument("--force", action="store_true", help="あっても取り直す")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("settings", help="設定項目と現在値の一覧")
    p.set_defaults(func=cmd_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from assistant.backends import BackendError
    from ingest.load import ManifestError
    from vectorstore.model_files import ModelError
    from vectorstore.store import IndexError_

    try:
        settings = load_settings(host=getattr(args, "host", None), port=getattr(args, "port", None))
        return args.func(args, settings)
    except IndexError_ as exc:
        return _fail(str(exc), EXIT_ENV)
    except (ModelError, BackendError) as exc:
        return _fail(str(exc), EXIT_ENV)
    except ManifestError as exc:
        return _fail(str(exc), EXIT_INPUT)
    except InvalidQuestion as exc:
        return _fail(str(exc), EXIT_INPUT)
    except KeyboardInterrupt:
        return _fail("中断しました。", 130)


def run() -> None:
    """Console entry point. A one-shot ``ask`` ends without the interpreter's teardown
    (freeing the model session and every imported module costs about half a second
    of a two-second command); every other command exits normally."""
    code = main()
    if sys.argv[1:2] == ["ask"]:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
