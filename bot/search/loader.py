"""Open the index in a data directory and put a Retriever together."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.search.keyword import KeywordIndex
from bot.search.query import TermDictionary
from bot.search.retriever import Retriever
from bot.search.tokenize import load_term_words, tokenizer
from bot.search.topics import TopicWords
from ingest.store import IndexStore

log = logging.getLogger(__name__)


class IndexMissing(RuntimeError):
    """No index in the data directory yet."""


def load_retriever(settings: Settings) -> Retriever:
    terms_file = settings.knowledge_dir / "terms.tsv"
    tokenizer()
    load_term_words(terms_file)
    store = IndexStore(settings.index_dir)
    if store.dirty or not KeywordIndex.exists(settings.index_dir):
        if store.count() == 0:
            raise IndexMissing(f"{settings.index_dir} 里还没有索引，请先运行 lianhu ingest")
        # an ingest stopped after changing documents: finish its work before answering
        from ingest.pipeline import rebuild_rankings

        log.warning("索引未完整重建，正在重建排序数据")
        rebuild_rankings(settings, store)
    keyword = KeywordIndex.load(settings.index_dir)
    from bot.search.dense import load_dense

    dense = load_dense(settings, store, keyword)
    retriever = Retriever(
        store,
        keyword,
        TermDictionary.load(terms_file),
        dense=None,
        rrf_k=settings.retrieval.rrf_k,
        use_cards=settings.retrieval.use_cards,
        topics=TopicWords.load(settings.knowledge_dir / "topics.tsv"),
    )
    retriever.analyze("伸请低保")  # load pinyin and jieba tables now, not on the first question
    retriever.dense = dense
    return retriever
