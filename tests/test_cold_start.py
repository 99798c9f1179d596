"""Commands that only answer import neither PyTorch, sentence-transformers,
transformers, gradio nor chromadb: each costs seconds in a fresh process.

Each command runs in a fresh interpreter; the fast tests use the fake-embedding
index (the fake embedder is injected the way the CLI tests do it), the ``model``
test runs ``planqa ask`` unchanged against the real index and ONNX model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "chromadb", "langchain_chroma", "scipy")

RUNNER = r"""
import json, sys
fake = sys.argv[1] == "fake"
if fake:
    import ingest.pipeline
    import vectorstore.runtime
    from tests.conftest import BigramEmbeddings
    ingest.pipeline.build_embeddings = lambda settings, progress=False: BigramEmbeddings(size=256)
    vectorstore.runtime.prefetch = lambda settings: None
from assistant.cli import main
code = main(sys.argv[3:])
heavy = set(sys.argv[2].split(","))
found = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy})
print("\nHEAVY=" + json.dumps({"code": code, "modules": found}))
"""


def _run(tmp_path: Path, mode: str, args: list[str], env_extra: dict[str, str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, mode, ",".join(HEAVY), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("HEAVY=")]
    assert lines, f"command did not finish: {proc.stderr[-2000:]}"
    return json.loads(lines[-1].removeprefix("HEAVY="))


def _fake_env(fake_index, tmp_path: Path) -> dict[str, str]:
    settings, _ = fake_index
    return {
        "PLANQA_INDEX_DIR": str(settings.index_dir),
        "PLANQA_CACHE_DIR": str(tmp_path / "cache"),
        "PLANQA_FEEDBACK_DB": str(tmp_path / "fb.sqlite3"),
        "PLANQA_BACKEND": "extractive",
    }


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "公式アプリの2026年度の目標は？"],
        ["measures", "--plan", "oita"],
        ["settings"],
    ],
    ids=["ask", "measures", "settings"],
)
def test_answering_commands_stay_light(fake_index, tmp_path, args):
    result = _run(tmp_path, "fake", args, _fake_env(fake_index, tmp_path))
    assert result["code"] == 0
    assert result["modules"] == [], f"{args[0]} imported {result['modules']}"


def test_batch_and_eval_stay_light(fake_index, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "1", "question": "公式アプリの2026年度の目標は？"}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    golden = tmp_path / "golden.jsonl"
    item = {"id": "g1", "question": "公式アプリの2026年度の目標は？", "plan": "oita", "expected_measures": ["oita:3"],
            "must_include": [], "answerable": True, "type": "kpi"}
    golden.write_text(json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
    env = _fake_env(fake_index, tmp_path)
    batch = _run(tmp_path, "fake", ["batch", str(questions), "-o", str(tmp_path / "a.jsonl"), "--quiet"], env)
    assert batch["code"] == 0 and batch["modules"] == []
    evaluated = _run(tmp_path, "fake", ["eval", "--golden", str(golden), "--quiet"], env)
    assert evaluated["code"] == 0 and evaluated["modules"] == []


@pytest.mark.model
def test_real_ask_does_not_import_torch(tmp_path):
    """The real command on the real index: the ONNX route must not pull PyTorch in."""
    from assistant.settings import load_settings
    from vectorstore.embeddings import runtime_for
    from vectorstore.onnx_export import check_onnx
    from vectorstore.store import IndexError_, current_generation

    settings = load_settings()
    try:
        current_generation(settings.index_dir)
    except IndexError_ as exc:
        pytest.skip(f"索引がありません: {exc}")
    if runtime_for(settings) != "onnx" or not check_onnx(settings.model_dir).ok:
        pytest.skip("ONNX 版の既定モデルがありません（planqa models install）")
    result = _run(tmp_path, "real", ["ask", "公式アプリの2026年度の目標は？"], {})
    assert result["code"] == 0
    assert result["modules"] == [], f"ask imported {result['modules']}"
