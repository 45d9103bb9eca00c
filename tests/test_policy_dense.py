"""Dense ranking without downloads: a tiny sentence-transformers model built here, and a fake
OpenAI-compatible embeddings server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from policy_support import SAMPLE_LAW, synthetic_settings

from bot.search.loader import load_retriever
from bot.services.answer import Answerer
from ingest.pipeline import ingest

# The fake server's "meaning": texts that speak of misfortune point one way, of illness another.
CONCEPTS = [("意外", "倒霉", "出事"), ("重病", "看病", "医疗"), ("收入", "穷", "困难")]


def concept_vector(text: str) -> list[float]:
    vector = [1.0 if any(w in text for w in words) else 0.0 for words in CONCEPTS]
    return [*vector, 0.1]  # never all-zero


class FakeEmbeddings(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeEmbeddings.requests.append({"path": self.path, **body})
        data = [
            {"object": "embedding", "index": i, "embedding": concept_vector(t)}
            for i, t in enumerate(body["input"])
        ]
        payload = json.dumps({"object": "list", "data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def embeddings_server():
    FakeEmbeddings.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEmbeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def _openai_settings(tmp_path, base_url):
    settings = synthetic_settings(tmp_path / "data")
    e = settings.embeddings
    e.backend, e.base_url = "openai", base_url
    e.query_model, e.document_model = "e5-query", "e5-passage"
    e.query_prefix, e.document_prefix = "query: ", "passage: "
    return settings


def _docs(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "law.md").write_text(SAMPLE_LAW, encoding="utf-8")
    return docs


def test_openai_backend_sends_models_and_prefixes_and_skips_unchanged_text(
    tmp_path, embeddings_server
):
    settings = _openai_settings(tmp_path, embeddings_server)
    ingest(settings, [_docs(tmp_path)])
    documents = [r for r in FakeEmbeddings.requests if r["model"] == "e5-passage"]
    assert 5 == sum(len(r["input"]) for r in documents)
    assert all(text.startswith("passage: ") for r in documents for text in r["input"])
    assert "/v1/embeddings" == documents[0]["path"]

    FakeEmbeddings.requests.clear()
    (tmp_path / "docs" / "law.md").write_text(
        SAMPLE_LAW + "\n第六条 新加的一条。\n", encoding="utf-8"
    )
    ingest(settings, [tmp_path / "docs"])
    sent = [t for r in FakeEmbeddings.requests for t in r["input"]]
    assert ["passage: 第六条 新加的一条。"] == sent  # only the new article is embedded

    FakeEmbeddings.requests.clear()
    load_retriever(settings).search("倒霉事")
    assert [{"path": "/v1/embeddings", "model": "e5-query", "input": ["query: 倒霉事"]}] == (
        FakeEmbeddings.requests
    )


def test_fusion_lifts_what_only_the_dense_side_understands(tmp_path, embeddings_server):
    docs = _docs(tmp_path)
    keyword_only = synthetic_settings(tmp_path / "kw")
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
    assert retriever.dense is not None
    assert 5 == retriever.dense.collection.count()
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
