"""A broken environment gives a clear Japanese message that says how to fix it.

Missing index → MissingIndex naming `planqa ingest` (and `planqa ask` exits 1);
a half-written or damaged generation → CorruptIndex with the rebuild hint;
a missing, damaged or changed embedding model → `planqa models install`.
The model checks run on small fake model folders in tmp_path, never on the
real model files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from assistant import cli
from assistant.service import Assistant
from ingest.pipeline import ingest
from tests.conftest import FakeEmbeddings, make_settings
from vectorstore import model_files
from vectorstore.dense import VECTORS_FILE, DenseIndex
from vectorstore.model_files import DEFAULT_MODEL, MARKER, WEIGHTS, ModelError, check_model
from vectorstore.snapshot import load_snapshot
from vectorstore.store import CURRENT, META, REBUILD_HINT, CorruptIndex, MissingIndex, current_generation

INGEST_HINT = "planqa ingest"
MODEL_HINT = "planqa models install"


def _env(monkeypatch, tmp_path: Path, index_dir: Path) -> None:
    monkeypatch.setenv("PLANQA_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("PLANQA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PLANQA_FEEDBACK_DB", str(tmp_path / "fb.sqlite3"))
    monkeypatch.setenv("PLANQA_BACKEND", "extractive")


# --- missing index -----------------------------------------------------------

def test_missing_index_message(tmp_path):
    with pytest.raises(MissingIndex) as exc:
        current_generation(tmp_path / "nothing-here")
    assert INGEST_HINT in str(exc.value) and str(tmp_path / "nothing-here") in str(exc.value)
    with pytest.raises(MissingIndex, match=INGEST_HINT):
        Assistant(make_settings(tmp_path), FakeEmbeddings(size=64)).ask("公式アプリの目標は？")


def test_cli_ask_without_index_exits_1(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty-index"
    empty.mkdir()
    _env(monkeypatch, tmp_path, empty)
    code = cli.main(["ask", "公式アプリの2026年度の目標は？"])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_ENV == 1
    assert INGEST_HINT in err and "索引がまだありません" in err
    assert out == ""


# --- half-written or damaged generations ---------------------------------------

@pytest.fixture(scope="module")
def built_index(tmp_path_factory) -> Path:
    """One complete index (fake embeddings), copied by each test before damaging it."""
    tmp = tmp_path_factory.mktemp("broken-env-index")
    ingest(make_settings(tmp), embeddings=FakeEmbeddings(size=64), progress=False)
    return tmp / "index"


@pytest.fixture
def index_copy(built_index, tmp_path) -> tuple[Path, Path]:
    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir)
    return index_dir, current_generation(index_dir).path


def _load(index_dir: Path):
    return load_snapshot(index_dir, FakeEmbeddings(size=64))


def _expect_corrupt(index_dir: Path, *fragments: str) -> str:
    with pytest.raises(CorruptIndex) as exc:
        _load(index_dir)
    message = str(exc.value)
    assert REBUILD_HINT in message and INGEST_HINT in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_intact_copy_loads(index_copy):
    index_dir, _ = index_copy
    assert len(_load(index_dir).chunks) > 300


def test_meta_without_complete(index_copy):
    index_dir, gen = index_copy
    meta = json.loads((gen / META).read_text(encoding="utf-8"))
    meta.pop("complete")
    (gen / META).write_text(json.dumps(meta), encoding="utf-8")
    _expect_corrupt(index_dir, "書きかけ")


def test_meta_missing(index_copy):
    index_dir, gen = index_copy
    (gen / META).unlink()
    _expect_corrupt(index_dir, META)


def test_chroma_dir_missing(index_copy):
    index_dir, gen = index_copy
    shutil.rmtree(gen / "chroma")
    _expect_corrupt(index_dir, "chroma")


def test_chroma_dir_emptied(index_copy):
    """A generation read through Chroma (written before vectors.npy existed): a chroma
    folder that lost its files opens as an empty store, and the count check catches it."""
    index_dir, gen = index_copy
    (gen / VECTORS_FILE).unlink()
    shutil.rmtree(gen / "chroma")
    (gen / "chroma").mkdir()
    _expect_corrupt(index_dir)


def test_chroma_sqlite_garbage(index_copy):
    index_dir, gen = index_copy
    (gen / VECTORS_FILE).unlink()
    (gen / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    _expect_corrupt(index_dir)


def test_generation_without_vectors_file_is_read_through_chroma(index_copy):
    index_dir, gen = index_copy
    with_file = _load(index_dir)
    (gen / VECTORS_FILE).unlink()
    snap = _load(index_dir)
    assert not isinstance(snap.dense, DenseIndex) and isinstance(with_file.dense, DenseIndex)
    assert sorted(snap.dense.get(include=[])["ids"]) == sorted(with_file.dense.get(include=[])["ids"])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "fewer_rows", "wrong_dtype"])
def test_damaged_vectors_file(index_copy, damage):
    import numpy as np

    index_dir, gen = index_copy
    path = gen / VECTORS_FILE
    if damage == "garbage":
        path.write_bytes(b"not an array" * 50)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "fewer_rows":
        np.save(path, np.load(path)[:-3])
    else:
        np.save(path, np.load(path).astype(np.float64))
    message = _expect_corrupt(index_dir, VECTORS_FILE if damage != "fewer_rows" else "件数")
    assert "Traceback" not in message


@pytest.mark.parametrize("name", ["chunks.json", "records.json"])
def test_json_truncated(index_copy, name):
    index_dir, gen = index_copy
    data = (gen / name).read_bytes()
    (gen / name).write_bytes(data[: len(data) // 2])
    _expect_corrupt(index_dir, str(gen))


@pytest.mark.parametrize("name", ["chunks.json", "records.json"])
def test_json_missing(index_copy, name):
    index_dir, gen = index_copy
    (gen / name).unlink()
    _expect_corrupt(index_dir, name)


def test_chunks_fewer_than_vectors(index_copy):
    index_dir, gen = index_copy
    chunks = json.loads((gen / "chunks.json").read_text(encoding="utf-8"))
    (gen / "chunks.json").write_text(json.dumps(chunks[:-5], ensure_ascii=False), encoding="utf-8")
    _expect_corrupt(index_dir, "件数")


def test_current_points_nowhere(index_copy):
    index_dir, _ = index_copy
    (index_dir / CURRENT).write_text("gen-never-written")
    _expect_corrupt(index_dir, "gen-never-written")


def test_cli_ask_on_corrupt_index_exits_1(index_copy, tmp_path, monkeypatch, capsys):
    index_dir, gen = index_copy
    (gen / "chunks.json").write_text('[{"id": "trunc', encoding="utf-8")
    _env(monkeypatch, tmp_path, index_dir)
    code = cli.main(["ask", "公式アプリの2026年度の目標は？"])
    err = capsys.readouterr().err
    assert code == 1 and INGEST_HINT in err and "作り直して" in err


# --- embedding model files ---------------------------------------------------------

WEIGHTS_BYTES = b"fake safetensors weights " * 64


def _fake_model(model_dir: Path, weights: bytes = WEIGHTS_BYTES) -> Path:
    root = model_dir / DEFAULT_MODEL
    root.mkdir(parents=True)
    (root / "config.json").write_text("{}")
    (root / WEIGHTS).write_bytes(weights)
    return root


@pytest.fixture
def right_hash(monkeypatch) -> str:
    digest = hashlib.sha256(WEIGHTS_BYTES).hexdigest()
    monkeypatch.setattr(model_files, "WEIGHTS_SHA256", digest)
    return digest


def test_model_dir_missing(tmp_path):
    status = check_model(tmp_path / "no-models")
    assert not status.ok and MODEL_HINT in status.message and "ありません" in status.message


def test_model_config_missing(tmp_path):
    root = _fake_model(tmp_path / "models")
    (root / "config.json").unlink()
    status = check_model(tmp_path / "models")
    assert not status.ok and MODEL_HINT in status.message


def test_model_wrong_hash(tmp_path):
    root = _fake_model(tmp_path / "models")
    status = check_model(tmp_path / "models")
    assert not status.ok
    assert MODEL_HINT in status.message and "ハッシュ不一致" in status.message
    assert not (root / MARKER).exists()  # a failed check never records a marker


def test_model_right_hash_writes_marker(tmp_path, right_hash):
    root = _fake_model(tmp_path / "models")
    assert check_model(tmp_path / "models").ok
    marker = json.loads((root / MARKER).read_text())
    assert marker["sha256"] == right_hash and marker["stamp"]["size"] == len(WEIGHTS_BYTES)


def test_marker_skips_rehash(tmp_path, right_hash, monkeypatch):
    _fake_model(tmp_path / "models")
    assert check_model(tmp_path / "models").ok
    calls = []
    monkeypatch.setattr(model_files, "sha256_file", lambda *a, **k: calls.append(a) or right_hash)
    assert check_model(tmp_path / "models").ok and calls == []
    assert check_model(tmp_path / "models", full=True).ok and len(calls) == 1


def test_stale_marker_rehashes_and_detects_change(tmp_path, right_hash):
    root = _fake_model(tmp_path / "models")
    assert check_model(tmp_path / "models").ok
    weights = root / WEIGHTS
    damaged = bytearray(WEIGHTS_BYTES)
    damaged[10] ^= 0xFF  # same size, different content
    weights.write_bytes(bytes(damaged))
    st = weights.stat()
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # modified after the marker
    status = check_model(tmp_path / "models")
    assert not status.ok and MODEL_HINT in status.message


def test_full_check_catches_change_hidden_from_marker(tmp_path, right_hash):
    """Size and mtime restored after a change: only ``full`` (planqa models verify) notices."""
    root = _fake_model(tmp_path / "models")
    assert check_model(tmp_path / "models").ok
    weights = root / WEIGHTS
    st = weights.stat()
    damaged = bytearray(WEIGHTS_BYTES)
    damaged[0] ^= 0xFF
    weights.write_bytes(bytes(damaged))
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert check_model(tmp_path / "models").ok  # documented limit of the quick check
    assert not check_model(tmp_path / "models", full=True).ok


def test_marker_for_another_hash_is_ignored(tmp_path, right_hash):
    root = _fake_model(tmp_path / "models")
    assert check_model(tmp_path / "models").ok
    marker = json.loads((root / MARKER).read_text())
    (root / MARKER).write_text(json.dumps({**marker, "sha256": "0" * 64}))
    assert check_model(tmp_path / "models").ok  # re-hashed, matches, marker rewritten
    assert json.loads((root / MARKER).read_text())["sha256"] == right_hash


def test_garbage_marker_is_ignored(tmp_path):
    root = _fake_model(tmp_path / "models")
    (root / MARKER).write_text("{not json")
    status = check_model(tmp_path / "models")
    assert not status.ok and MODEL_HINT in status.message


def test_resolve_model_path_without_install_raises(tmp_path):
    from vectorstore.embeddings import resolve_model_path

    with pytest.raises(ModelError, match=MODEL_HINT):
        resolve_model_path(DEFAULT_MODEL, tmp_path / "no-models", auto_install=False)
    _fake_model(tmp_path / "bad-models")
    with pytest.raises(ModelError, match="ハッシュ不一致"):
        resolve_model_path(DEFAULT_MODEL, tmp_path / "bad-models", auto_install=False)


def test_cli_models_verify_reports_damage(tmp_path, monkeypatch, capsys):
    _fake_model(tmp_path / "models")
    monkeypatch.setenv("PLANQA_MODEL_DIR", str(tmp_path / "models"))
    code = cli.main(["models", "verify"])
    out = capsys.readouterr().out
    assert code == 1 and MODEL_HINT in out and "ハッシュ不一致" in out


def test_cli_models_verify_ok(tmp_path, monkeypatch, capsys, right_hash):
    from tests.test_onnx_files import _fake_export

    root = _fake_model(tmp_path / "models")
    monkeypatch.setenv("PLANQA_MODEL_DIR", str(tmp_path / "models"))
    assert cli.main(["models", "verify"]) == 1  # the ONNX export is missing
    assert "ONNX" in capsys.readouterr().out
    _fake_export(tmp_path / "models")
    assert cli.main(["models", "verify"]) == 1  # the default int8 graph is missing
    assert "int8" in capsys.readouterr().out
    onnx_root = _fake_export(tmp_path / "models", "int8")
    assert cli.main(["models", "verify"]) == 0
    out = capsys.readouterr().out
    assert str(root) in out and str(onnx_root) in out


# --- the saved keyword index -------------------------------------------------------

def test_saved_keyword_index_matches_a_rebuild(index_copy):
    from vectorstore.keyword import KEYWORD_FILE, BM25Index, tokenize

    index_dir, gen = index_copy
    assert (gen / KEYWORD_FILE).is_file()
    snap = _load(index_dir)
    rebuilt = BM25Index([tokenize(c.embed_text) for c in snap.chunks])
    query = tokenize("公式アプリのダウンロード件数の目標")
    assert snap.keyword.top(query, 10) == rebuilt.top(query, 10)
    assert snap.keyword.vocab == rebuilt.vocab


@pytest.mark.parametrize("damage", ["garbage", "missing", "other-tokenizer"])
def test_damaged_keyword_index_is_rebuilt(index_copy, monkeypatch, damage):
    """The keyword file is a cache: a bad one costs a rebuild, never an error."""
    from vectorstore import keyword
    from vectorstore.keyword import KEYWORD_FILE

    index_dir, gen = index_copy
    if damage == "garbage":
        (gen / KEYWORD_FILE).write_bytes(b"PK\x03\x04 not really")
    elif damage == "missing":
        (gen / KEYWORD_FILE).unlink()  # a generation written before the file existed
    else:
        monkeypatch.setattr(keyword, "TOKENIZER_VERSION", keyword.TOKENIZER_VERSION + 1)
    calls = []
    real = keyword.BM25Index.__init__
    monkeypatch.setattr(keyword.BM25Index, "__init__", lambda self, docs, **kw: calls.append(1) or real(self, docs, **kw))
    snap = _load(index_dir)
    rebuilt = 2 if damage == "other-tokenizer" else 1  # a new tokenizer invalidates the facts' keyword file too
    assert calls == [1] * rebuilt and snap.keyword.size == len(snap.chunks)
    assert snap.fact_keyword.size == len(snap.facts)
    answer = Assistant(make_settings(index_dir.parent), FakeEmbeddings(size=64)).ask("施策No.3の2026年度の目標は？")
    assert "76,000件" in answer.text
