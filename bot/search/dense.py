"""Dense ranking (optional): our own embedding function, vectors kept in a local chromadb.

`[embeddings] backend` picks the embedder: `none` (default), `sentence-transformers` (a model
name already on disk or a local path; never downloads) or `openai` (any OpenAI-compatible
`/v1/embeddings` server). Vectors are keyed by a hash of model + text, so a re-ingest embeds
only new or changed text. Any failure at query time degrades to keyword ranking with one log
line; a failure while embedding leaves the keyword index usable.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.config import EmbeddingsSettings, Settings

log = logging.getLogger(__name__)

COLLECTION_PREFIX = "units"


class Embedder:
    """Turns passages and queries into vectors. Subclasses set `name` (part of every key)."""

    name = "base"

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        raise NotImplementedError

    def embed_query(self, text: str) -> list[float]:
        raise NotImplementedError


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, cfg: EmbeddingsSettings):
        if not cfg.model:
            raise ValueError("[embeddings] model 未设置：请填写本机上的模型目录")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RuntimeError(
                "未安装 sentence-transformers：pip install -e '.[embeddings]'"
            ) from exc
        self.model = SentenceTransformer(cfg.model, device="cpu", local_files_only=True)
        self.cfg = cfg
        self.name = f"st:{cfg.model}:{cfg.document_prefix}:{cfg.query_prefix}"

    def _encode(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self.model.encode(
            list(texts),
            batch_size=self.cfg.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).tolist()

    def embed_documents(self, texts):
        return self._encode([self.cfg.document_prefix + t for t in texts])

    def embed_query(self, text):
        return self._encode([self.cfg.query_prefix + text])[0]


class OpenAIEmbedder(Embedder):
    """POST {base_url}/embeddings; the standard library is enough for this one call."""

    def __init__(self, cfg: EmbeddingsSettings):
        if not cfg.base_url:
            raise ValueError("[embeddings] base_url 未设置，例如 http://127.0.0.1:8011/v1")
        self.cfg = cfg
        self.name = (
            f"openai:{cfg.base_url}:{cfg.document_model or cfg.model}:{cfg.query_model or cfg.model}"
            f":{cfg.document_prefix}:{cfg.query_prefix}"
        )

    def _post(self, model: str, texts: list[str]) -> list[list[float]]:
        body = json.dumps({"model": model, "input": texts}).encode()
        request = urllib.request.Request(
            self.cfg.base_url.rstrip("/") + "/embeddings",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        key = self.cfg.api_key.get_secret_value()
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        with urllib.request.urlopen(request, timeout=self.cfg.timeout_s) as response:
            data = json.load(response)["data"]
        vectors = [item["embedding"] for item in sorted(data, key=lambda d: d["index"])]
        return [_unit(v) for v in vectors]

    def embed_documents(self, texts):
        model = self.cfg.document_model or self.cfg.model
        out: list[list[float]] = []
        for i in range(0, len(texts), self.cfg.batch_size):
            batch = [self.cfg.document_prefix + t for t in texts[i : i + self.cfg.batch_size]]
            out.extend(self._post(model, batch))
        return out

    def embed_query(self, text):
        return self._post(self.cfg.query_model or self.cfg.model, [self.cfg.query_prefix + text])[0]


def _unit(vector: list[float]) -> list[float]:
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return (v / norm).tolist() if norm > 0 else v.tolist()


def make_embedder(settings: Settings) -> Embedder | None:
    cfg = settings.embeddings
    match cfg.backend:
        case "none" | "":
            return None
        case "sentence-transformers":
            return SentenceTransformerEmbedder(cfg)
        case "openai":
            return OpenAIEmbedder(cfg)
        case other:
            raise ValueError(
                f"[embeddings] backend 只能是 none、sentence-transformers 或 openai，不是 {other}"
            )


def text_key(embedder: Embedder, text: str) -> str:
    return hashlib.sha1(f"{embedder.name}\0{text}".encode()).hexdigest()


def _collection(settings: Settings, embedder: Embedder):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        path=str(settings.index_dir / "chroma"),
        settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
    )
    # names allow only [a-zA-Z0-9._-]: one collection per embedder, named by its hash
    name = f"{COLLECTION_PREFIX}-{hashlib.sha1(embedder.name.encode()).hexdigest()[:16]}"
    return client.get_or_create_collection(
        name=name, metadata={"hnsw:space": "cosine"}, embedding_function=None
    )


def sync_vectors(settings: Settings, store) -> None:
    """Embed the law units whose text has no vector yet; drop vectors no unit uses any more."""
    try:
        embedder = make_embedder(settings)
    except Exception as exc:
        log.warning("向量检索未启用：%s", exc)
        return
    if embedder is None:
        return
    wanted = {}
    for unit in store.iter_units("law"):
        wanted.setdefault(text_key(embedder, unit.text), unit.text)
    try:
        collection = _collection(settings, embedder)
        have = set(collection.get(include=[])["ids"])
        missing = [k for k in wanted if k not in have]
        for i in range(0, len(missing), 256):
            keys = missing[i : i + 256]
            collection.add(ids=keys, embeddings=embedder.embed_documents([wanted[k] for k in keys]))
        stale = [k for k in have if k not in wanted]
        for i in range(0, len(stale), 1000):
            collection.delete(ids=stale[i : i + 1000])
    except Exception as exc:
        log.warning("向量写入失败，仍可按关键词检索：%s", exc)


@dataclass
class DenseRanker:
    embedder: Embedder
    collection: object
    rows_by_key: dict[str, list[int]]  # text key → rows of the keyword article index

    def search(self, question: str, n: int = 50) -> list[tuple[int, float]]:
        """(article row, cosine similarity), best first; [] when the backend fails."""
        try:
            vector = self.embedder.embed_query(question)
            result = self.collection.query(
                query_embeddings=[vector], n_results=n, include=["distances"]
            )
        except Exception as exc:
            log.warning("向量检索失败，本次只用关键词排序：%s", exc)
            return []
        out = []
        for key, distance in zip(result["ids"][0], result["distances"][0], strict=True):
            for row in self.rows_by_key.get(key, []):
                out.append((row, 1.0 - float(distance)))
        return out


def load_dense(settings: Settings, store, keyword) -> DenseRanker | None:
    """The dense ranker for the configured backend, or None (with a log line) when unavailable."""
    try:
        embedder = make_embedder(settings)
        if embedder is None:
            return None
        collection = _collection(settings, embedder)
    except Exception as exc:
        log.warning("向量检索不可用，只用关键词排序：%s", exc)
        return None
    row_of_unit = {int(u): i for i, u in enumerate(keyword.art_unit_ids)}
    rows_by_key: dict[str, list[int]] = {}
    for unit in store.iter_units("law"):
        if unit.id in row_of_unit:
            rows_by_key.setdefault(text_key(embedder, unit.text), []).append(row_of_unit[unit.id])
    return DenseRanker(embedder, collection, rows_by_key)
