"""Japanese keyword search: SudachiPy normalized forms + character bigrams, BM25.

LangChain's BM25 splits on spaces, which finds nothing in Japanese. Here each
text becomes Sudachi's normalized content words (mode A, so 橋梁点検 gives
橋梁 and 点検) plus character bigrams of Japanese runs, for words the
dictionary splits badly. Scores come from the columns of a sparse (CSC)
weight matrix, so a query costs a few array slices even at a hundred times the
corpus; reading and scoring need NumPy only (SciPy builds the matrix at ingest).

Ingest saves the built index in the generation (:data:`KEYWORD_FILE`), so
loading an index does not re-tokenize every chunk (about 50 s at a hundred
times the corpus on two cores); a file made with another tokenizer setup is
ignored and the index is rebuilt from the chunks.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
import zipfile
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

_SKIP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
_JA_RUN = re.compile(r"[\u30a0-\u30ff\u3400-\u9fff\uff66-\uff9fー々〆]+")  # kanji and katakana: no bigrams across particles
_local = threading.local()
KEYWORD_FILE = "keyword.npz"
TOKENIZER_VERSION = 2  # bump when tokenize() changes its output

# Very common plan words that carry no meaning for ranking.
STOPWORDS = {"する", "ある", "いる", "なる", "れる", "こと", "もの", "ため", "よう", "等", "及び", "また", "年度", "本市", "市"}


def _sudachi(mode: str):
    """One Sudachi tokenizer per thread and split mode ("A": short units, "C": compounds)."""
    cache = getattr(_local, "tokenizers", None)
    if cache is None:
        cache = _local.tokenizers = {}
    if mode not in cache:
        from sudachipy import Dictionary, SplitMode

        cache[mode] = Dictionary(dict="core").tokenizer(mode=getattr(SplitMode, mode))
    return cache[mode]


def _tokenizer():
    return _sudachi("A")


def compound_nouns(text: str) -> list[tuple[str, str]]:
    """Japanese nouns as whole compounds (mode C: ふるさと納税, 電子図書館), with their
    normalized forms; nouns used as adverbs (今まで, 全部, 最近) and -的 words (最終的) name no topic."""
    out = []
    for m in _sudachi("C").tokenize(text[:2000]):
        pos = m.part_of_speech()
        if pos[0] == "名詞" and pos[1] in ("普通名詞", "固有名詞") and pos[2] != "副詞可能" \
                and not m.surface().endswith("的") and re.search(r"[\u3040-\u30ff\u3400-\u9fff]", m.surface()):
            out.append((m.surface(), m.normalized_form()))
    return out


def short_nouns(text: str) -> set[str]:
    """Nouns as short units (「市職員」→ 市, 職員; 「教職員」 stays whole), for telling a word said on
    its own from one held inside a longer word."""
    return {m.surface() for m in _sudachi("A").tokenize(text[:2000]) if m.part_of_speech()[0] == "名詞"}


def noun_runs(text: str) -> list[str]:
    """Runs of nouns with their prefixes and suffixes, unbroken by particles
    (「おおいた医療ネットワークには」→「おおいた医療ネットワーク」)."""
    runs, current = [], ""
    for m in _sudachi("C").tokenize(text[:2000]):
        if m.part_of_speech()[0] in ("名詞", "接頭辞", "接尾辞"):
            current += m.surface()
        else:
            if current:
                runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


def tokenizer_signature() -> str:
    """What the saved terms depend on: this code's version, the dictionary, the stop words."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        dic = version("sudachidict-core")
    except PackageNotFoundError:
        dic = "unknown"
    words = hashlib.sha1("\n".join(sorted(STOPWORDS | _SKIP_POS)).encode()).hexdigest()[:8]
    return f"v{TOKENIZER_VERSION}|sudachidict-core {dic}|A|{words}"


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
    terms.extend("b:" + gram for gram in char_bigrams(text))
    return terms


def char_bigrams(text: str) -> list[str]:
    """Character bigrams inside kanji/katakana runs (never across particles)."""
    return [run[i : i + 2] for run in _JA_RUN.findall(text) for i in range(len(run) - 1)]


class BM25Index:
    """Okapi BM25 over a fixed list of documents (k1=1.5, b=0.75)."""

    def __init__(self, docs_terms: list[list[str]], k1: float = 1.5, b: float = 0.75):
        from scipy import sparse

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
        m = sparse.csc_matrix((weights, (tf.row, tf.col)), shape=(n, len(self.vocab)))
        m.sum_duplicates()
        self.data, self.indices, self.indptr = m.data.astype(np.float32), m.indices, m.indptr
        self.shape = (n, len(self.vocab))
        self.size = n

    def save(self, path: Path) -> None:
        """Write the index (matrix, idf, vocabulary, tokenizer signature) to an .npz file."""
        vocab = "\0".join(self.vocab).encode("utf-8")
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez(
                fh, data=self.data, indices=self.indices, indptr=self.indptr, shape=np.array(self.shape, dtype=np.int64),
                idf=self.idf, vocab=np.frombuffer(vocab, dtype=np.uint8),
                signature=np.frombuffer(tokenizer_signature().encode("utf-8"), dtype=np.uint8),
            )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, size: int) -> BM25Index | None:
        """The saved index, or None when it is missing, damaged, for another
        tokenizer setup, or not for ``size`` documents (then rebuild it)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                if bytes(z["signature"]).decode("utf-8") != tokenizer_signature():
                    return None
                shape = tuple(int(x) for x in z["shape"])
                data, indices, indptr = z["data"], z["indices"], z["indptr"]
                idf = z["idf"]
                raw = bytes(z["vocab"]).decode("utf-8")
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # UnicodeDecodeError is a ValueError
            return None
        terms = raw.split("\0") if raw else []
        if (
            len(shape) != 2 or shape[0] != size or len(terms) != shape[1] or len(idf) != shape[1]
            or len(indptr) != shape[1] + 1 or len(data) != len(indices) or (len(indptr) and indptr[-1] != len(data))
            or (len(indices) and (indices.min() < 0 or indices.max() >= size))
        ):
            return None
        index = cls.__new__(cls)
        index.vocab = {t: i for i, t in enumerate(terms)}
        index.idf, index.size, index.shape = idf, size, shape
        index.data, index.indices, index.indptr = data.astype(np.float32), indices, indptr
        return index

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 score of every document: the query's term columns, weighted by how often each term occurs."""
        out = np.zeros(self.size, dtype=np.float32)
        counts = Counter(self.vocab[t] for t in query_terms if t in self.vocab)
        for col, count in counts.items():
            lo, hi = self.indptr[col], self.indptr[col + 1]
            out[self.indices[lo:hi]] += self.data[lo:hi] * np.float32(count)  # rows are unique within a column
        return out

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


_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞"}
GENERIC_WORDS = {
    "計画", "施策", "取組", "取り組み", "目標", "教える", "何", "ある", "する", "いる", "なる", "知る", "今", "市", "こと", "もの",
    "どう", "どこ", "いつ", "誰", "内容", "予定", "場合", "事", "方", "よう", "ため", "ん", "の", "やる", "思う", "言う", "できる",
    "本当", "為る", "出来る", "有る", "居る", "成る", "遣る", "年度", "令和", "大分", "延岡", "大分市", "延岡市", "DX", "dx", "推進", "下さる", "くださる", "お", "ご", "聞く",
}


def content_words(text: str) -> list[str]:
    """Normalized content words (nouns, verbs, adjectives) without numbers and generic plan words.
    One question asks for them at several steps, so they are tokenized once (cached)."""
    return list(_content_words(text))


@lru_cache(maxsize=4096)
def _content_words(text: str) -> tuple[str, ...]:
    return _words(text, lambda pos: pos[0] in _CONTENT_POS and pos[1] != "数詞")


def nouns(text: str) -> list[str]:
    """The question's nouns (normalized, generic plan words removed): what it is about."""
    return list(_nouns(text))


@lru_cache(maxsize=4096)
def _nouns(text: str) -> tuple[str, ...]:
    return _words(text, lambda pos: pos[0] == "名詞" and pos[1] not in ("数詞", "代名詞") and pos[2] != "副詞可能")


def topic_nouns(text: str) -> list[str]:
    """The nouns that name what a question is about: like :func:`nouns`, without verbal nouns
    used as verbs (「どこの課が支援してくれるの？」: 支援 asks what is done, it names no new topic)."""
    return list(_topic_nouns(text))


@lru_cache(maxsize=4096)
def _topic_nouns(text: str) -> tuple[str, ...]:
    morphemes = list(_tokenizer().tokenize(text[:2000]))
    verbal = {m.normalized_form() for m, after in zip(morphemes, morphemes[1:], strict=False)
              if m.part_of_speech()[2] == "サ変可能" and after.part_of_speech()[0] == "動詞"
              and after.dictionary_form() in ("する", "できる")}
    return tuple(w for w in _nouns(text) if w not in verbal)


def _words(text: str, keep) -> tuple[str, ...]:
    """Normalized words whose part of speech ``keep`` accepts, without numbers and generic plan words."""
    words = []
    for m in _tokenizer().tokenize(text[:2000]):
        if not keep(m.part_of_speech()):
            continue
        norm = m.normalized_form()
        if len(norm) < 2 <= len(m.surface()):
            norm = m.surface()  # イノシシ normalizes to 猪: keep the word as written
        if len(norm) >= 2 and norm not in GENERIC_WORDS and norm.lower() not in GENERIC_WORDS and not norm.isdigit():
            words.append(norm)
    return tuple(dict.fromkeys(words))


@lru_cache(maxsize=50_000)
def sentence_forms(sentence: str) -> frozenset[str]:
    """Normalized forms of one sentence, cached: answers compare question words
    with the same sentences again and again (スマホ and スマートフォン match)."""
    return frozenset(normalized_forms(sentence))


_EVERYDAY_FILE = Path(__file__).with_name("everyday_words.tsv")


@lru_cache(maxsize=1)
def everyday_words() -> dict[str, tuple[str, ...]]:
    """Everyday word (normalized) → the plan's words for it, read once from the data file."""
    table: dict[str, tuple[str, ...]] = {}
    for line in _EVERYDAY_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, words = line.partition("\t")
        for form in dict.fromkeys([key] + content_words(key)):
            table[form] = tuple(dict.fromkeys(table.get(form, ()) + tuple(words.split())))
    return table


def expand_words(words: list[str]) -> list[str]:
    """The words plus the plan's words for the everyday ones (先生 → 教員, 教職員)."""
    table = everyday_words()
    return list(dict.fromkeys(words + [w for word in words for w in table.get(word, ())]))


def normalized_forms(text: str) -> set[str]:
    return {m.normalized_form() for m in _tokenizer().tokenize(text[:20000])}
