"""Ingest into a real Chroma on a temporary directory: stable IDs, replacement, atomic publish."""

from __future__ import annotations

import json
import shutil

import pytest

from ingest.chunk import chunk_plan, split_text
from ingest.pipeline import ingest, parse_plans
from tests.conftest import FakeEmbeddings, make_settings
from vectorstore.snapshot import load_snapshot
from vectorstore.store import CURRENT, CorruptIndex, MissingIndex, current_generation


def _ids(settings, embeddings):
    snap = load_snapshot(settings.index_dir, embeddings)
    stored = set(snap.dense.get(include=[])["ids"])
    return snap, stored


def test_ingest_twice_same_ids(tmp_settings, fake_embeddings):
    first = ingest(tmp_settings, embeddings=fake_embeddings, progress=False)
    snap1, ids1 = _ids(tmp_settings, fake_embeddings)
    second = ingest(tmp_settings, embeddings=fake_embeddings, progress=False)
    snap2, ids2 = _ids(tmp_settings, fake_embeddings)
    assert first.chunks == second.chunks == len(ids1) == len(ids2)
    assert ids1 == ids2 == {c.id for c in snap2.chunks}
    assert first.plans["oita"]["measures"] == 32 and first.plans["nobeoka"]["measures"] == 7


def test_changed_plan_replaces_old_chunks(tmp_path, fake_embeddings):
    data = tmp_path / "plans"
    shutil.copytree(make_settings(tmp_path).data_dir, data)
    settings = make_settings(tmp_path, data_dir=data)
    ingest(settings, embeddings=fake_embeddings, progress=False)
    _, before = _ids(settings, fake_embeddings)
    source = data / "oita-dx-action-plan-2025-2026.txt"
    source.write_text(source.read_text(encoding="utf-8").replace("76,000件", "77,777件"), encoding="utf-8")
    ingest(settings, only="oita", embeddings=fake_embeddings, progress=False)
    snap, after = _ids(settings, fake_embeddings)
    texts = "\n".join(c.text for c in snap.chunks)
    assert "77,777件" in texts and "76,000件" not in texts
    gone = before - after
    assert gone and all(i not in after for i in gone)
    assert len(after) == len(snap.chunks)
    # Nobeoka chunks were kept, not re-parsed away.
    assert sum(c.plan == "nobeoka" for c in snap.chunks) > 100


def test_removed_plan_leaves_no_chunks(tmp_path, fake_embeddings):
    data = tmp_path / "plans"
    shutil.copytree(make_settings(tmp_path).data_dir, data)
    settings = make_settings(tmp_path, data_dir=data)
    ingest(settings, embeddings=fake_embeddings, progress=False)
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    manifest["plans"] = [p for p in manifest["plans"] if p["id"] == "oita"]
    (data / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    ingest(settings, embeddings=fake_embeddings, progress=False)
    snap, ids = _ids(settings, fake_embeddings)
    assert {c.plan for c in snap.chunks} == {"oita"} and len(ids) == len(snap.chunks)


def test_unchanged_reingest_embeds_nothing(tmp_path):
    from vectorstore.embeddings import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "c.sqlite3", "sig")
    import numpy as np

    cache.put_many({"a": np.ones(3, dtype=np.float32)})
    assert set(cache.get_many(["a", "b"])) == {"a"}
    assert EmbeddingCache(tmp_path / "c.sqlite3", "other-model").get_many(["a"]) == {}


def test_missing_and_corrupt_index_messages(tmp_settings, fake_embeddings):
    with pytest.raises(MissingIndex, match="planqa ingest"):
        current_generation(tmp_settings.index_dir)
    ingest(tmp_settings, embeddings=fake_embeddings, progress=False)
    gen = current_generation(tmp_settings.index_dir)
    (gen.path / "meta.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(CorruptIndex, match="作り直して"):
        current_generation(tmp_settings.index_dir)
    (tmp_settings.index_dir / CURRENT).write_text("gen-does-not-exist")
    with pytest.raises(CorruptIndex):
        current_generation(tmp_settings.index_dir)


def test_killed_ingest_keeps_previous_index(tmp_settings, fake_embeddings, monkeypatch):
    ingest(tmp_settings, embeddings=fake_embeddings, progress=False)
    before = current_generation(tmp_settings.index_dir).name

    class Boom(FakeEmbeddings):
        signature: str = "fake-64-boom"  # another embedding: unchanged vectors are not simply copied over

        def embed_documents(self, texts):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest(tmp_settings, embeddings=Boom(size=64), progress=False)
    assert current_generation(tmp_settings.index_dir).name == before
    snap = load_snapshot(tmp_settings.index_dir, fake_embeddings)
    assert len(snap.chunks) > 300


def test_chunks_have_headers_and_metadata():
    from assistant.settings import load_settings

    plans = {p.info.id: p for p in parse_plans(load_settings())}
    chunks = chunk_plan(plans["oita"])
    kpi = [c for c in chunks if c.measure == "3" and c.field == "kpi" and c.year == 2026]
    assert kpi and "76,000件" in kpi[0].text
    assert kpi[0].header.startswith("大分市 No.3 公式アプリの機能拡充｜KPI")
    assert all(c.metadata()["plan"] == "oita" for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)
    assert all("<p>" not in c.text and "\t" not in c.text for c in chunks)
    nob = chunk_plan(plans["nobeoka"])
    assert any(c.measure == "2" and "ぴったりサービス" in c.text and c.field == "kpi" for c in nob)


def test_split_text_limits_and_keeps_content():
    text = "。".join(["あ" * 150] * 5) + "。"
    parts = split_text(text, 400)
    assert all(len(p) <= 400 for p in parts)
    assert "".join(parts).replace("\n", "") == text


def test_an_index_embedded_otherwise_is_not_read_with_other_vectors(fake_index):
    """Questions embedded with another model or precision than the documents would be compared
    in another space: the snapshot refuses, and says how to rebuild."""
    from tests.conftest import FakeEmbeddings
    from vectorstore.snapshot import load_snapshot
    from vectorstore.store import OtherEmbedding

    settings, embeddings = fake_index
    assert load_snapshot(settings.index_dir, embeddings).facts  # the same signature reads
    with pytest.raises(OtherEmbedding, match="planqa ingest") as err:
        load_snapshot(settings.index_dir, FakeEmbeddings(size=64))
    assert "fake-64" in str(err.value) and "bigram-256" in str(err.value)
