"""The NumPy dense index answers like the Chroma collection it is saved from; the
query LRU; BM25 scores without SciPy equal the sparse product."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import FakeEmbeddings
from vectorstore.dense import DenseIndex, unit_rows
from vectorstore.embeddings import CachedEmbeddings
from vectorstore.snapshot import load_snapshot
from vectorstore.store import chroma_client, current_generation, vector_store


def _index(n: int = 50, dim: int = 8, seed: int = 0) -> tuple[DenseIndex, np.ndarray]:
    vectors = unit_rows(np.random.default_rng(seed).normal(size=(n, dim)))
    plans = ["oita" if i % 3 else "nobeoka" for i in range(n)]
    return DenseIndex(vectors, [f"c{i}" for i in range(n)], plans), vectors


def test_nearest_first_with_cosine_distance():
    index, vectors = _index()
    query = vectors[7] + 0.1 * vectors[3]
    found = index.similarity_search_by_vector_with_relevance_scores(query.tolist(), k=5)
    sims = vectors @ (query / np.linalg.norm(query))
    assert [d.id for d, _ in found] == [f"c{i}" for i in np.argsort(-sims)[:5]]
    assert found[0][0].id == "c7"
    assert [round(dist, 5) for _, dist in found] == [round(1 - float(s), 5) for s in np.sort(sims)[::-1][:5]]


def test_plan_filters():
    index, vectors = _index()
    only = index.similarity_search_by_vector_with_relevance_scores(vectors[0].tolist(), k=100, filter={"plan": "nobeoka"})
    assert len(only) == 17 and {d.metadata["plan"] for d, _ in only} == {"nobeoka"}
    both = index.similarity_search_by_vector_with_relevance_scores(
        vectors[0].tolist(), k=10, filter={"plan": {"$in": ["oita", "nobeoka"]}}
    )
    assert len(both) == 10
    assert index.similarity_search_by_vector_with_relevance_scores(vectors[0].tolist(), k=3, filter={"plan": "x"}) == []
    with pytest.raises(ValueError):
        index.similarity_search_by_vector_with_relevance_scores(vectors[0].tolist(), k=3, filter={"field": "kpi"})


def test_saved_vectors_answer_like_chroma(fake_index):
    settings, embeddings = fake_index
    snap = load_snapshot(settings.index_dir, embeddings)
    assert isinstance(snap.dense, DenseIndex)
    gen = current_generation(settings.index_dir)
    client = chroma_client(None, gen.path / "chroma")
    try:
        chroma = vector_store(client, gen.collection, embeddings)
        for question, where in (("公式アプリの目標", None), ("橋梁の点検", {"plan": "oita"}),
                                ("重点方針", {"plan": {"$in": ["nobeoka"]}})):
            vec = embeddings.embed_query(question)
            ours = snap.dense.similarity_search_by_vector_with_relevance_scores(vec, k=10, filter=where)
            theirs = chroma.similarity_search_by_vector_with_relevance_scores(vec, k=10, filter=where)
            assert [d.id for d, _ in ours] == [d.id for d, _ in theirs]
            assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-4)
    finally:
        client.close()


class Counting(CachedEmbeddings):
    signature = "counting"

    def __init__(self):
        super().__init__(cache_path=None, batch_size=4, progress=False)
        self.calls: list[str] = []

    def _encode(self, texts, query):
        self.calls.extend(texts)
        return np.asarray(FakeEmbeddings(size=8).embed_documents(texts), dtype=np.float32)


def test_query_lru_reuses_and_evicts():
    emb = Counting()
    emb.query_cache_size = 2
    first = emb.embed_query("a")
    assert emb.embed_query("a") == first and emb.calls == ["a"]
    emb.embed_query("b")
    emb.embed_query("a")  # a is now the most recent
    emb.embed_query("c")  # evicts b
    emb.embed_query("a")
    emb.embed_query("b")
    assert emb.calls == ["a", "b", "c", "b"]


def test_keyword_scores_equal_the_sparse_product(fake_index):
    from scipy import sparse

    settings, embeddings = fake_index
    keyword = load_snapshot(settings.index_dir, embeddings).keyword
    matrix = sparse.csc_matrix((keyword.data, keyword.indices, keyword.indptr), shape=keyword.shape)
    terms = ["w:公式", "b:アプ", "w:公式", "w:点検", "b:橋梁", "w:存在しない語"]
    cols = {t: keyword.vocab[t] for t in terms if t in keyword.vocab}
    q = np.zeros(keyword.shape[1], dtype=np.float32)
    for t in terms:
        if t in cols:
            q[cols[t]] += 1
    assert len(cols) >= 3
    assert np.allclose(keyword.scores(terms), matrix @ q, atol=1e-5)


def test_unchanged_reingest_copies_the_vector_files(tmp_settings, fake_embeddings, monkeypatch):
    from ingest.pipeline import ingest
    from vectorstore import store
    from vectorstore.dense import VECTORS_FILE

    first = ingest(tmp_settings, embeddings=fake_embeddings, progress=False)
    before = current_generation(tmp_settings.index_dir)
    real_client = store.chroma_client
    monkeypatch.setattr(store, "chroma_client", lambda *a, **k: pytest.fail("Chroma opened for unchanged chunks"))
    second = ingest(tmp_settings, embeddings=fake_embeddings, progress=False)
    after = current_generation(tmp_settings.index_dir)
    assert second.generation != first.generation and after.collection == before.collection
    assert np.array_equal(np.load(after.path / VECTORS_FILE), np.load(before.path / VECTORS_FILE))
    snap = load_snapshot(tmp_settings.index_dir, fake_embeddings)
    assert len(snap.chunks) == first.chunks and isinstance(snap.dense, DenseIndex)
    client = real_client(None, after.path / "chroma")  # the copied Chroma store is complete
    try:
        assert vector_store(client, after.collection, fake_embeddings)._collection.count() == first.chunks
    finally:
        client.close()


def test_changed_chunks_are_not_copied(tmp_path, fake_embeddings, monkeypatch):
    import shutil

    from ingest.pipeline import ingest
    from tests.conftest import make_settings
    from vectorstore import store

    data = tmp_path / "plans"
    shutil.copytree(make_settings(tmp_path).data_dir, data)
    settings = make_settings(tmp_path, data_dir=data)
    ingest(settings, embeddings=fake_embeddings, progress=False)
    plan = next(p for p in data.glob("*.txt"))
    plan.write_text(plan.read_text(encoding="utf-8") + "\n追記された一文です。\n", encoding="utf-8")
    opened = []
    real_client = store.chroma_client
    monkeypatch.setattr(store, "chroma_client", lambda *a, **k: opened.append(a) or real_client(*a, **k))
    ingest(settings, embeddings=fake_embeddings, progress=False)
    assert opened, "a changed plan must be embedded and written to Chroma"
