"""The keyword side of retrieval: BM25 over words and over character pairs, per article and
per document, plus BM25 over the cards' phrasings. Built from the index database by an ingest
run and saved beside it in the same generation directory, so start-up only loads arrays.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.search.bm25 import BM25Index
from bot.search.tokenize import char_bigrams, tokens
from ingest.store import IndexStore

FILES = ("art_words", "art_bigrams", "doc_words", "card_words", "card_bigrams")
# every file the keyword index writes into a generation directory
KEYWORD_FILES = (*(f"{name}.npz" for name in FILES), "keyword_meta.npz")


@dataclass
class KeywordIndex:
    art_words: BM25Index
    art_bigrams: BM25Index
    doc_words: BM25Index
    card_words: BM25Index
    card_bigrams: BM25Index
    art_unit_ids: np.ndarray  # row of an article index → units.id
    art_doc_rows: np.ndarray  # row of an article index → row of the document index
    doc_titles: list[str]
    card_ids: list[str]
    pinyin_words: dict[str, str]  # toneless pinyin of a word → the most frequent such word

    @classmethod
    def build(cls, store: IndexStore) -> KeywordIndex:
        art_tokens, art_bigrams, unit_ids, doc_rows = [], [], [], []
        doc_tokens: list[list[str]] = []
        doc_titles: list[str] = []
        doc_row_of: dict[int, int] = {}
        title_tokens: dict[int, list[str]] = {}
        for unit in store.iter_units("law"):
            if unit.doc_id not in doc_row_of:
                doc_row_of[unit.doc_id] = len(doc_titles)
                doc_titles.append(unit.title)
                title_tokens[unit.doc_id] = tokens(unit.title)
                doc_tokens.append(list(title_tokens[unit.doc_id]) * 3)
            toks = unit.tokens.split()
            doc_tokens[doc_row_of[unit.doc_id]].extend(toks)
            art_tokens.append(toks + title_tokens[unit.doc_id])
            art_bigrams.append(char_bigrams(unit.norm, normalized=True))
            unit_ids.append(unit.id)
            doc_rows.append(doc_row_of[unit.doc_id])
        card_tokens, card_bigram_list, card_ids = [], [], []
        for unit in store.iter_units("card"):
            card_tokens.append(unit.tokens.split())
            card_bigram_list.append(char_bigrams(unit.norm, normalized=True))
            card_ids.append(unit.article)  # a card's unit carries the card id as its label
        art_words = BM25Index.build(art_tokens)
        return cls(
            art_words=art_words,
            art_bigrams=BM25Index.build(art_bigrams),
            doc_words=BM25Index.build(doc_tokens),
            card_words=BM25Index.build(card_tokens),
            card_bigrams=BM25Index.build(card_bigram_list),
            art_unit_ids=np.asarray(unit_ids, dtype=np.int64),
            art_doc_rows=np.asarray(doc_rows, dtype=np.int32),
            doc_titles=doc_titles,
            card_ids=card_ids,
            pinyin_words=_pinyin_words(art_words, card_tokens),
        )

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            getattr(self, name).save(directory / f"{name}.npz")
        tmp = directory / "keyword_meta.tmp.npz"
        np.savez(
            tmp,
            art_unit_ids=self.art_unit_ids,
            art_doc_rows=self.art_doc_rows,
            names=np.asarray(
                json.dumps(
                    {
                        "doc_titles": self.doc_titles,
                        "card_ids": self.card_ids,
                        "pinyin_words": self.pinyin_words,
                    },
                    ensure_ascii=False,
                )
            ),
        )
        os.replace(tmp, directory / "keyword_meta.npz")

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        meta = np.load(directory / "keyword_meta.npz")
        names = json.loads(str(meta["names"]))
        parts = {name: BM25Index.load(directory / f"{name}.npz") for name in FILES}
        return cls(
            **parts,
            art_unit_ids=meta["art_unit_ids"],
            art_doc_rows=meta["art_doc_rows"],
            doc_titles=names["doc_titles"],
            card_ids=names["card_ids"],
            pinyin_words=names["pinyin_words"],
        )

    @staticmethod
    def exists(index_dir: Path) -> bool:
        """True when the data directory's index (its current generation) has a keyword index."""
        from ingest.generations import current_generation

        generation = current_generation(index_dir)
        return generation is not None and KeywordIndex.exists_in(generation)

    @staticmethod
    def exists_in(directory: Path) -> bool:
        """True when this directory (one generation) holds a saved keyword index."""
        return (directory / "keyword_meta.npz").is_file()

    @staticmethod
    def load_unit_ids(directory: Path) -> np.ndarray:
        """Row of an article index → units.id, without loading the rankings."""
        return np.load(directory / "keyword_meta.npz")["art_unit_ids"]


def pinyin_key(word: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(word))


def _pinyin_words(art_words: BM25Index, card_tokens: list[list[str]]) -> dict[str, str]:
    """Map the sound of each indexed word (2–4 Chinese characters) to its most frequent spelling,
    so that a homophone typo in a question (伸请, 补尝) can be read as the word meant."""
    best: dict[str, tuple[int, str]] = {}
    words = {w: art_words.df(w) for w in art_words.vocab}
    for toks in card_tokens:
        for w in toks:
            words[w] = words.get(w, 0) + 1
    for word, df in words.items():
        if 2 <= len(word) <= 4 and df >= 2 and all("\u4e00" <= c <= "\u9fff" for c in word):
            key = pinyin_key(word)
            if key not in best or best[key][0] < df:
                best[key] = (df, word)
    return {key: word for key, (_, word) in best.items()}
