"""The ONNX export's manifest: verified by hash, quick checks skip unchanged files,
damage and stale exports give the `planqa models install` hint.

Runs on small fake files in tmp_path; the real export is checked in
tests/test_onnx_encoder.py (marked ``model``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vectorstore import model_files, onnx_export
from vectorstore.onnx_encoder import ONNX_FILE, TOKENIZER_FILE
from vectorstore.onnx_export import MANIFEST, ONNX_DATA, check_onnx, onnx_path, record_manifest

HINT = "planqa models install"


def _fake_export(model_dir: Path, precision: str = "float32") -> Path:
    root = onnx_path(model_dir, precision)
    root.mkdir(parents=True)
    for name, body in ((ONNX_FILE, b"graph" * 10), (ONNX_DATA, b"weights" * 100), (TOKENIZER_FILE, b"pieces" * 20)):
        (root / name).write_bytes(body)
    record_manifest(root)
    return root


def _touch_later(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def test_missing_export(tmp_path):
    status = check_onnx(tmp_path / "models")
    assert not status.ok and HINT in status.message and "ありません" in status.message


def test_recorded_export_is_ok(tmp_path):
    root = _fake_export(tmp_path / "models")
    assert check_onnx(tmp_path / "models").ok
    manifest = json.loads((root / MANIFEST).read_text())
    assert manifest["source_sha256"] == model_files.WEIGHTS_SHA256
    assert set(manifest["files"]) == {ONNX_FILE, ONNX_DATA, TOKENIZER_FILE}


def test_quick_check_hashes_only_changed_files(tmp_path, monkeypatch):
    root = _fake_export(tmp_path / "models")
    calls: list = []
    real = onnx_export.sha256_file
    monkeypatch.setattr(onnx_export, "sha256_file", lambda p, **k: calls.append(p.name) or real(p))
    assert check_onnx(tmp_path / "models").ok and calls == []
    _touch_later(root / TOKENIZER_FILE)
    assert check_onnx(tmp_path / "models").ok and calls == [TOKENIZER_FILE]
    calls.clear()
    assert check_onnx(tmp_path / "models").ok and calls == []  # the new stamp was recorded
    assert check_onnx(tmp_path / "models", full=True).ok and sorted(calls) == sorted([ONNX_FILE, ONNX_DATA, TOKENIZER_FILE])


def test_changed_weights_fail_by_hash(tmp_path):
    root = _fake_export(tmp_path / "models")
    data = bytearray((root / ONNX_DATA).read_bytes())
    data[3] ^= 0xFF  # same size, other content
    (root / ONNX_DATA).write_bytes(bytes(data))
    _touch_later(root / ONNX_DATA)
    status = check_onnx(tmp_path / "models")
    assert not status.ok and "ハッシュ不一致" in status.message and HINT in status.message


def test_full_check_catches_change_hidden_from_stamp(tmp_path):
    root = _fake_export(tmp_path / "models")
    path = root / ONNX_FILE
    st = path.stat()
    path.write_bytes(b"GRAPH" * 10)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert check_onnx(tmp_path / "models").ok  # the quick check trusts size and mtime
    assert not check_onnx(tmp_path / "models", full=True).ok


def test_missing_file_and_garbage_manifest(tmp_path):
    root = _fake_export(tmp_path / "models")
    (root / ONNX_DATA).unlink()
    status = check_onnx(tmp_path / "models")
    assert not status.ok and ONNX_DATA in status.message and HINT in status.message
    (root / MANIFEST).write_text("{not json")
    assert not check_onnx(tmp_path / "models").ok


def test_export_of_other_weights_is_stale(tmp_path, monkeypatch):
    _fake_export(tmp_path / "models")
    monkeypatch.setattr(model_files, "WEIGHTS_SHA256", "0" * 64)
    status = check_onnx(tmp_path / "models")
    assert not status.ok and "古い" in status.message and HINT in status.message


def test_ensure_onnx_verifies_without_exporting(tmp_path, monkeypatch):
    _fake_export(tmp_path / "models")
    monkeypatch.setattr(onnx_export, "export_onnx", lambda *a: pytest.fail("exported again"))
    assert onnx_export.ensure_onnx(tmp_path / "models", log=lambda m: None) == onnx_path(tmp_path / "models")


def test_ensure_onnx_needs_the_source_model(tmp_path):
    with pytest.raises(model_files.ModelError, match=HINT):
        onnx_export.ensure_onnx(tmp_path / "models", log=lambda m: None)


def test_int8_lives_beside_the_float32_export(tmp_path):
    models = tmp_path / "models"
    assert onnx_path(models, "int8") != onnx_path(models) and onnx_path(models, "int8").parent == models
    with pytest.raises(model_files.ModelError, match="精度"):
        onnx_path(models, "int4")
    _fake_export(models)
    status = check_onnx(models, precision="int8")  # the float32 export alone is no int8 one
    assert not status.ok and HINT in status.message


def test_ensure_int8_quantizes_a_verified_export_once(tmp_path, monkeypatch):
    models = tmp_path / "models"
    exact = _fake_export(models)
    monkeypatch.setattr(onnx_export, "export_onnx", lambda *a: pytest.fail("exported again"))
    made = []

    def fake_quantize(source, dest):
        made.append(source)
        dest.mkdir(parents=True)
        for name in (ONNX_FILE, ONNX_DATA, TOKENIZER_FILE):
            (dest / name).write_bytes((source / name).read_bytes()[:7])
        record_manifest(dest, quantized="test")
        return dest

    monkeypatch.setattr(onnx_export, "quantize_onnx", fake_quantize)
    root = onnx_export.ensure_onnx(models, log=lambda m: None, precision="int8")
    assert root == onnx_path(models, "int8") and made == [exact]
    assert onnx_export.ensure_onnx(models, log=lambda m: None, precision="int8") == root and len(made) == 1
