"""Japanese keyword search: SudachiPy normalized forms + character bigrams, BM25.

LangChain's BM25 splits on spaces, which finds nothing in Japanese. Here each
text becomes Sudachi's normalized content words (mode A, so 橋梁点検 gives
橋梁 and 点検) plus character bigrams of Japanese runs, for words the
dictionary splits badly. Scores are computed with a sparse matrix, so a query
costs one sparse product even at a hundred times the corpus.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter

import numpy as np
from scipy import sparse

_SKIP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
_JA_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9fー々〆]+")
_local = threading.local()

# Very common plan words that carry no meaning for ranking.
STOPWORDS = {"する", "ある", "いる", "なる", "れる", "こと", "もの", "ため", "よう", "等", "及び", "また", "年度", "本市", "市"}


def _tokenizer():
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        from sudachipy import Dictionary, SplitMode

        tok = Dictionary(dict="core").tokenizer(mode=SplitMode.A)
        _local.tokenizer = tok
    return tok


def tokenize(text: str) -> list[str]:
    """Terms for BM25: normalized words (w:) and Japanese character bigrams (b:)."""
    text = text[:20000]
    terms: list[str] = []
    for m in _tokenizer().tokenize(text):
        if m.part_of_speech()[0] in _SKIP_POS:
            continue
        norm = m.normalized_form().lower()
        if norm and norm not in STOPWORDS and not norm.isspace():
            terms.append("w:" + norm)
    for run in _JA_RUN.findall(text):
        terms.extend("b:" + run[i : i + 2] for i in range(len(run) - 1))
    return terms


class BM25Index:
    """Okapi BM25 over a fixed list of documents (k1=1.5, b=0.75)."""

    def __init__(self, docs_terms: list[list[str]], k1: float = 1.5, b: float = 0.75):
        self.vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        lengths = np.array([len(t) for t in docs_terms], dtype=np.float32)
        avg = float(lengths.mean()) if len(lengths) else 1.0
        for doc_id, terms in enumerate(docs_terms):
            for term, tf in Counter(terms).items():
                col = self.vocab.setdefault(term, len(self.vocab))
                rows.append(doc_id)
                cols.append(col)
                vals.append(tf)
        n = len(docs_terms)
        tf = sparse.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)), shape=(n, len(self.vocab)))
        df = np.bincount(np.array(cols, dtype=np.int64), minlength=len(self.vocab)).astype(np.float32)
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        # Precompute BM25 term weights: tf*(k1+1)/(tf + k1*(1-b+b*len/avg)) * idf
        tf = tf.tocoo()
        norm = k1 * (1 - b + b * lengths[tf.row] / max(avg, 1e-6))
        weights = tf.data * (k1 + 1) / (tf.data + norm) * self.idf[tf.col]
        self.matrix = sparse.csc_matrix((weights, (tf.row, tf.col)), shape=(n, len(self.vocab)))
        self.size = n

    def scores(self, query_terms: list[str]) -> np.ndarray:
        cols = [self.vocab[t] for t in set(query_terms) if t in self.vocab]
        if not cols or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        counts = Counter(self.vocab[t] for t in query_terms if t in self.vocab)
        q = np.array([counts[c] for c in cols], dtype=np.float32)
        return np.asarray(self.matrix[:, cols] @ q).ravel()

    def top(self, query_terms: list[str], k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        scores = self.scores(query_terms)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        if not scores.any():
            return []
        k = min(k, int((scores > 0).sum()))
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx])]
        return [(int(i), float(scores[i])) for i in idx]


def idf_weight(index: BM25Index, term: str) -> float:
    col = index.vocab.get(term)
    return float(index.idf[col]) if col is not None else math.log(1 + index.size)
