"""The remembered training questions: their vectors, shipped beside the fitted model.

`lianhu fit` embeds the training questions (train/*.jsonl) anyway; it writes their vectors to
`memory_vectors.npz` beside `answer_model.json` with the model name and a hash of each question,
so answering needs no embedding of them and a stale file (questions or model changed) is
noticed and not used.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from bot.search.learned import Memory

log = logging.getLogger(__name__)

FILE = "memory_vectors.npz"


def question_hash(question: str) -> str:
    return hashlib.sha1(question.encode()).hexdigest()[:16]


def save_memory(directory: Path, memory: Memory, model_name: str, questions: list[str]) -> None:
    tmp = directory / (FILE + ".tmp.npz")
    np.savez(
        tmp,
        matrix=memory.matrix.astype(np.float32),
        in_scope=memory.in_scope,
        law=memory.law if memory.law is not None else np.zeros(len(memory.in_scope), dtype=bool),
        meta=np.asarray(
            json.dumps(
                {
                    "model": model_name,
                    "hashes": [question_hash(q) for q in questions],
                    "keys": [sorted(k) for k in memory.keys],
                },
                ensure_ascii=False,
            )
        ),
    )
    tmp.replace(directory / FILE)


def load_memory(directory: Path, model_name: str) -> Memory | None:
    """The memory saved beside a model, or None (with a log line) when it is missing or was
    embedded by another model."""
    path = directory / FILE
    if not path.is_file():
        return None
    data = np.load(path)
    meta = json.loads(str(data["meta"]))
    if meta.get("model") != model_name:
        log.warning(
            "%s 由别的模型算出（%s），不使用；运行 lianhu fit 重算", path, meta.get("model")
        )
        return None
    return Memory(
        matrix=data["matrix"],
        in_scope=data["in_scope"].astype(bool),
        law=data["law"].astype(bool) if "law" in data else None,
        keys=[{tuple(k) for k in keys} for keys in meta["keys"]],
    )


def memory_hashes(directory: Path) -> list[str]:
    """The question hashes a saved memory was built from (for the staleness test)."""
    data = np.load(directory / FILE)
    return json.loads(str(data["meta"]))["hashes"]
