"""Helpers shared by the policy-answer tests: where the shared corpus is, small synthetic laws."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
POLICY = CORPUS / "policy"
DEV_QUESTIONS = CORPUS.parent / "eval" / "dev_questions.jsonl"


@functools.cache
def _bundled_citations() -> dict[str, tuple[tuple[str, str], ...]]:
    from bot.config import BUNDLED_KNOWLEDGE
    from bot.services.cards import load_cards

    return {c.id: c.citations for c in load_cards(BUNDLED_KNOWLEDGE)}


def same_basis(got: str | None, expected: str) -> bool:
    """The expected bundled card leads, or another resting on its main article (two cards may
    answer one need: 耕地占用税法第七条 has a card of its own and one on 减半)."""
    if got is None or got == expected:
        return got == expected
    citations = _bundled_citations()
    return citations[expected][0] in citations[got]


def need_policy_corpus() -> Path:
    if not POLICY.is_dir():
        pytest.skip("../shared/corpus/policy is not beside this checkout")
    return POLICY


# A made-up regulation in the corpus format, written for these tests.
SAMPLE_LAW = """# 示例县村民互助条例

2026年1月1日 示例县人民代表大会常务委员会公布

<!--  INFO  END  -->

## 第一章 总则

第一条 为了鼓励村民互相帮助，制定本条例。

第二条 村民委员会负责组织互助活动。

## 第二章 互助救济

### 第一节 生活困难

第三条 家庭人均收入低于本县最低生活保障标准的村民，可以向村民委员会申请互助金。

申请人应当如实提供家庭收入情况。

第四条 遭遇火灾、洪水等意外事件，基本生活暂时出现严重困难的家庭，可以申请临时互助。

### 第二节 看病

第五条 因患重病医疗费用负担过重的村民，可以申请医疗互助金。
"""

SAMPLE_GUIDE = """# 走访工作手册

## 入户前

走访前先了解农户的基本情况。

## 入户时

问清楚家庭困难，记在民情日记里。
"""


def knowledge_without_cards(tmp_path: Path) -> Path:
    """The bundled dictionaries and refusal model, but no cards: synthetic laws stand alone."""
    import shutil

    from bot.config import BUNDLED_KNOWLEDGE

    target = tmp_path / "knowledge-no-cards"
    (target / "cards").mkdir(parents=True, exist_ok=True)
    for name in ("terms.tsv", "offices.tsv", "answer_model.json", "memory_vectors.npz"):
        shutil.copy(BUNDLED_KNOWLEDGE / name, target / name)
    return target


def synthetic_settings(data_dir: Path):
    """Settings for tests over synthetic documents: a fresh data dir, no bundled cards."""
    from bot.config import load_settings

    settings = load_settings(data_dir)
    settings.retrieval.knowledge_dir = str(knowledge_without_cards(data_dir.parent / data_dir.name))
    return settings
