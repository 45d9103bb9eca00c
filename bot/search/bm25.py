"""A BM25 index over pre-tokenized units, kept as numpy arrays on disk.

Built once after an ingest from tokens stored in the index database, loaded at start-up
without re-tokenizing. Posting weights (the tf part of BM25) are precomputed, so a query
is a few vector additions.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

K1 = 1.2
B = 0.75


class BM25Index:
    def __init__(self, vocab: dict[str, int], ptr, units, weights, idf, n_units: int):
        self.vocab = vocab
        self.ptr = ptr  # postings of term t are [ptr[t], ptr[t+1])
        self.units = units
        self.weights = weights
        self.idf = idf
        self.n_units = n_units

    @classmethod
    def build(cls, docs: Sequence[Sequence[str]]) -> BM25Index:
        n = len(docs)
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.zeros(n, dtype=np.float32)
        for i, toks in enumerate(docs):
            lengths[i] = len(toks)
            for term, tf in Counter(toks).items():
                t = vocab.setdefault(term, len(vocab))
                rows.append(t)
                cols.append(i)
                tfs.append(tf)
        rows_a = np.asarray(rows, dtype=np.int32)
        cols_a = np.asarray(cols, dtype=np.int32)
        tf_a = np.asarray(tfs, dtype=np.float32)
        order = np.argsort(rows_a, kind="stable")
        rows_a, cols_a, tf_a = rows_a[order], cols_a[order], tf_a[order]
        df = np.bincount(rows_a, minlength=len(vocab)).astype(np.float32)
        ptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(df, out=ptr[1:])
        avgdl = float(lengths.mean()) if n else 1.0
        norm = K1 * (1 - B + B * lengths[cols_a] / max(avgdl, 1e-9))
        weights = (tf_a * (K1 + 1) / (tf_a + norm)).astype(np.float32)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        return cls(vocab, ptr, cols_a, weights, idf, n)

    def df(self, term: str) -> int:
        t = self.vocab.get(term)
        return 0 if t is None else int(self.ptr[t + 1] - self.ptr[t])

    def term_idf(self, term: str) -> float:
        t = self.vocab.get(term)
        return 0.0 if t is None else float(self.idf[t])

    def scores(self, weighted_terms: dict[str, float]) -> np.ndarray:
        """BM25 score of every unit for query terms with per-term weights."""
        out = np.zeros(self.n_units, dtype=np.float32)
        for term, w in weighted_terms.items():
            t = self.vocab.get(term)
            if t is None or w <= 0:
                continue
            lo, hi = self.ptr[t], self.ptr[t + 1]
            out[self.units[lo:hi]] += (w * self.idf[t]) * self.weights[lo:hi]
        return out

    def save(self, path: Path) -> None:
        """Write atomically: a crash mid-write leaves the previous index in place."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        terms = sorted(self.vocab, key=self.vocab.get)
        np.savez(
            tmp,
            ptr=self.ptr,
            units=self.units,
            weights=self.weights,
            idf=self.idf,
            n_units=np.asarray([self.n_units]),
            terms=np.asarray(json.dumps(terms, ensure_ascii=False)),
        )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        data = np.load(path)
        terms = json.loads(str(data["terms"]))
        vocab = {term: i for i, term in enumerate(terms)}
        return cls(
            vocab, data["ptr"], data["units"], data["weights"], data["idf"], int(data["n_units"][0])
        )
