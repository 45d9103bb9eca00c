"""Atomic, resumable ingest runs: a run builds a new generation and switches to it at the end;
a killed run leaves the previous index answering as before and the next run reuses its work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from embed_support import FakeEmbeddingServer, openai_env, openai_settings
from policy_support import SAMPLE_GUIDE, SAMPLE_LAW, knowledge_without_cards, synthetic_settings
from typer.testing import CliRunner

from bot import cli
from bot.config import PROJECT_ROOT
from bot.search.loader import load_retriever
from bot.services.answer import Answerer, ensure_index
from ingest import pipeline
from ingest.generations import IngestBusy, IngestLock, current_generation
from ingest.store import IndexStore

QUESTIONS = ["家里着火了能申请临时互助吗", "看病钱不够咋办", "村民委员会管啥"]


@pytest.fixture
def server():
    fake = FakeEmbeddingServer()
    yield fake
    fake.close()


def _law(n: int) -> str:
    """Another made-up regulation, with its own title and words."""
    return SAMPLE_LAW.replace("示例县村民互助条例", f"示例县第{n}号互助办法").replace(
        "互助金", f"{n}号帮扶金"
    )


def _docs(tmp_path, laws: int = 1):
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "law.md").write_text(SAMPLE_LAW, encoding="utf-8")
    for n in range(2, laws + 1):
        (docs / f"law{n}.md").write_text(_law(n), encoding="utf-8")
    return docs


def _answers(settings) -> list:
    answerer = Answerer.from_settings(settings, use_llm=False)
    return [answerer.answer(q).ranked for q in QUESTIONS]


def _generations(settings) -> list[str]:
    return sorted(p.name for p in settings.index_dir.iterdir() if p.name.startswith("gen-"))


def test_each_run_switches_to_a_new_generation_and_removes_the_old(tmp_path):
    docs = _docs(tmp_path)
    settings = synthetic_settings(tmp_path / "data")
    settings.embeddings.backend = "none"
    first = pipeline.ingest(settings, [docs])
    assert (True, "gen-000001") == (first.rebuilt, first.generation)

    again = pipeline.ingest(settings, [docs])
    assert (False, ["gen-000001"]) == (again.rebuilt, _generations(settings))

    (docs / "guide.md").write_text(SAMPLE_GUIDE, encoding="utf-8")
    third = pipeline.ingest(settings, [docs])
    assert (1, 1, "gen-000002") == (third.added, third.unchanged, third.generation)
    assert ["gen-000002"] == _generations(settings)
    assert not (settings.index_dir / "building").exists()
    assert "gen-000002" == (settings.index_dir / "CURRENT").read_text().strip()


def test_a_running_bot_keeps_answering_after_a_switch(tmp_path):
    """The bot reads the generation it opened; the switch deletes it from under it."""
    docs = _docs(tmp_path)
    settings = synthetic_settings(tmp_path / "data")
    settings.embeddings.backend = "none"
    pipeline.ingest(settings, [docs])
    answerer = Answerer.from_settings(settings, use_llm=False)
    before = answerer.answer(QUESTIONS[0]).ranked
    (docs / "guide.md").write_text(SAMPLE_GUIDE, encoding="utf-8")
    pipeline.ingest(settings, [docs])
    assert before == answerer.answer(QUESTIONS[0]).ranked


def test_killed_ingest_leaves_the_previous_index_and_the_next_run_resumes(tmp_path, server):
    docs = _docs(tmp_path)
    settings = openai_settings(synthetic_settings(tmp_path / "data"), server.url)
    settings.embeddings.batch_size = 2
    pipeline.ingest(settings, [docs])
    before = _answers(settings)
    served = current_generation(settings.index_dir)

    _docs(tmp_path, laws=4)  # three more documents: a longer run
    server.hold(4)  # requests 1–3 are answered (and committed), the 4th never is
    env = {
        **os.environ,
        **openai_env(server.url),
        "LIANHU_EMBEDDINGS__BATCH_SIZE": "2",
        "LIANHU_RETRIEVAL__KNOWLEDGE_DIR": settings.retrieval.knowledge_dir,
    }
    run = subprocess.Popen(
        [sys.executable, "-m", "bot", "ingest", str(docs), "--data-dir", str(settings.data_dir)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert server.held.wait(60), "the ingest never reached its fourth batch"
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
    finally:
        run.kill()
        server.release()
    committed = server.texts()[:6]  # three answered batches of two

    assert served == current_generation(settings.index_dir)
    assert before == _answers(settings)

    server.requests.clear()
    report = pipeline.ingest(settings, [docs])
    assert (True, 0) == (report.resumed, report.units_written)  # the killed run's documents
    resumed = server.texts("e5-passage")
    assert resumed and not set(resumed) & set(committed)  # no committed vector computed again
    assert (report.vectors.embedded, 0) == (len(resumed), report.vectors.missing)
    assert 4 == IndexStore(current_generation(settings.index_dir), read_only=True).count("law")


def test_keyword_only_serves_at_once_and_a_later_run_adds_vectors(tmp_path, server):
    docs = _docs(tmp_path, laws=2)
    settings = openai_settings(synthetic_settings(tmp_path / "data"), server.url)
    quick = pipeline.ingest(settings, [docs], keyword_only=True)
    assert [] == server.texts("e5-passage")
    assert 10 <= quick.vectors.missing
    retriever = load_retriever(settings)
    assert not retriever.dense.has_vectors
    assert ("示例县村民互助条例", "第四条") in Answerer(settings, retriever).answer(
        QUESTIONS[0]
    ).ranked[:3]

    full = pipeline.ingest(settings, [docs])
    assert (True, 0, 0) == (full.rebuilt, full.units_written, full.vectors.missing)
    assert full.vectors.embedded == len(server.texts("e5-passage"))
    assert load_retriever(settings).dense.has_vectors


def test_one_ingest_at_a_time(tmp_path):
    settings = synthetic_settings(tmp_path / "data")
    with IngestLock(settings.index_dir), pytest.raises(IngestBusy, match="另一个导入正在进行"):
        pipeline.ingest(settings, [])


def test_a_command_started_while_another_process_builds_the_first_index_says_so(tmp_path):
    settings = synthetic_settings(tmp_path / "data")
    with IngestLock(settings.index_dir), pytest.raises(SystemExit, match="另一个导入正在建立"):
        ensure_index(settings)


def test_unreadable_files_exit_non_zero_naming_them(tmp_path, monkeypatch):
    monkeypatch.setenv("LIANHU_RETRIEVAL__KNOWLEDGE_DIR", str(knowledge_without_cards(tmp_path)))
    monkeypatch.setenv("LIANHU_EMBEDDINGS__BACKEND", "none")
    docs = _docs(tmp_path)
    (docs / "扫描件.pdf").write_bytes(b"not a pdf at all")
    (docs / "空白.md").write_text("\n\n", encoding="utf-8")
    cli._register_all()
    result = CliRunner().invoke(cli.app, ["ingest", str(docs), "--data-dir", str(tmp_path / "d")])
    assert 1 == result.exit_code
    assert "新增 1" in result.output
    assert "以下 2 个文件无法读取" in result.output
    assert "扫描件.pdf" in result.output and "空白.md" in result.output
    assert current_generation(tmp_path / "d" / "index") is not None  # the rest is served


def test_an_index_from_before_generations_is_served_then_replaced(tmp_path):
    """Data directories indexed by an older version keep answering, and the next ingest moves
    them to a generation and removes the old files (the vector store stays)."""
    docs = _docs(tmp_path)
    settings = synthetic_settings(tmp_path / "data")
    settings.embeddings.backend = "none"
    pipeline.ingest(settings, [docs])
    index = settings.index_dir
    generation = current_generation(index)
    for f in generation.iterdir():
        f.rename(index / f.name)  # the old layout: everything in data/index itself
    generation.rmdir()
    (index / "CURRENT").unlink()
    before = _answers(settings)

    (docs / "guide.md").write_text(SAMPLE_GUIDE, encoding="utf-8")
    report = pipeline.ingest(settings, [docs])
    assert (1, 1) == (report.added, report.unchanged)
    assert index / report.generation == current_generation(index)
    assert not (index / "index.db").exists() and not (index / "keyword_meta.npz").exists()
    assert before[0][:1] == _answers(settings)[0][:1]


def test_data_directories_sharing_a_vector_store_embed_once(tmp_path, server):
    docs = _docs(tmp_path)
    first = openai_settings(synthetic_settings(tmp_path / "one"), server.url)
    second = openai_settings(synthetic_settings(tmp_path / "two"), server.url)
    for settings in (first, second):
        settings.embeddings.store_dir = str(tmp_path / "vectors")
    assert 0 < pipeline.ingest(first, [docs]).vectors.embedded
    report = pipeline.ingest(second, [docs])
    assert (0, 0) == (report.vectors.embedded, report.vectors.missing)
    assert load_retriever(second).dense.has_vectors


def test_sentence_vectors_can_be_left_out(tmp_path, server):
    """[embeddings] sentences = false: articles only (a large collection in a third of the
    time); no sentence file is written, and switching it on later embeds just the sentences."""
    docs = _docs(tmp_path)
    settings = openai_settings(synthetic_settings(tmp_path / "data"), server.url)
    settings.embeddings.sentences = False
    first = pipeline.ingest(settings, [docs])
    assert (5, 0) == (first.vectors.embedded, first.vectors.missing)
    assert not (current_generation(settings.index_dir) / "sentences.npy").exists()
    dense = load_retriever(settings).dense
    assert dense.has_vectors and np.isnan(dense.sentence_scores(dense.embed_query("着火"))).all()

    settings.embeddings.sentences = True
    second = pipeline.ingest(settings, [docs])
    assert (6, 0, True) == (second.vectors.embedded, second.vectors.missing, second.rebuilt)
    dense = load_retriever(settings).dense
    assert not np.isnan(dense.sentence_scores(dense.embed_query("着火"))).any()
