"""Load the plan manifest and each plan's text (TXT, Markdown or PDF)."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.records import PlanInfo

REQUIRED = ("id", "city", "title", "source")


class ManifestError(ValueError):
    """The manifest or a plan file is missing or malformed (Japanese message)."""


def load_manifest(path: Path) -> list[PlanInfo]:
    if not path.is_file():
        raise ManifestError(f"計画の一覧ファイル（manifest.json）が見つかりません: {path}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ManifestError(f"manifest.json を読めません（JSON の誤り）: {exc}") from exc
    entries = raw.get("plans") if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise ManifestError("manifest.json には \"plans\" の配列が必要です。")
    plans: list[PlanInfo] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        missing = [k for k in REQUIRED if not entry.get(k)]
        if missing:
            raise ManifestError(f"manifest.json の {i} 件目に必要な項目がありません: {', '.join(missing)}")
        if entry["id"] in seen:
            raise ManifestError(f"manifest.json で計画 ID が重複しています: {entry['id']}")
        seen.add(entry["id"])
        known = {k: entry[k] for k in PlanInfo.__dataclass_fields__ if k in entry}
        plans.append(PlanInfo(**known))
    return plans


def read_plan_text(info: PlanInfo, data_dir: Path) -> str:
    path = data_dir / info.source
    if not path.is_file():
        raise ManifestError(f"計画ファイルが見つかりません: {path}（計画 {info.id}）")
    if path.suffix.lower() == ".pdf":
        return _read_pdf(path)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ManifestError(f"計画ファイルの文字コードを判別できません（UTF-8 か Shift_JIS にしてください）: {path}")


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, OSError, ValueError) as exc:
        raise ManifestError(f"PDF を読めません: {path}（{exc}）") from exc
