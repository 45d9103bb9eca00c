"""Ingest: normalize, split, read, and the incremental index."""

from __future__ import annotations

import pytest
from policy_support import SAMPLE_GUIDE, SAMPLE_LAW, need_policy_corpus, synthetic_settings

from bot.services.answer import Answerer
from ingest import pipeline
from ingest.generations import current_generation
from ingest.normalize import normalize
from ingest.readers import UnreadableDocument, read_document
from ingest.split import split_document
from ingest.store import IndexStore


def test_normalize_traditional_and_full_width():
    assert "最低生活保障 abc 123" == normalize("最低生活保障\u3000ＡＢＣ　１２３")
    assert "老人能申请低保吗" == normalize("老人能申請低保嗎")


def test_split_by_article_with_chapter_path():
    units = split_document(SAMPLE_LAW)
    assert ["第一条", "第二条", "第三条", "第四条", "第五条"] == [u.article for u in units]
    assert "第二章 互助救济 第一节 生活困难" == units[2].chapter
    assert "第二章 互助救济 第二节 看病" == units[4].chapter
    # a paragraph without a label continues the article before it
    assert units[2].text.endswith("申请人应当如实提供家庭收入情况。")
    # the issuing line before the header marker is not part of any unit
    assert all("人民代表大会常务委员会公布" not in u.text for u in units)


def test_overlong_article_is_split_by_paragraph_keeping_its_label():
    paragraphs = "\n\n".join("这是很长的一款规定。" * 30 for _ in range(4))
    units = split_document(f"# 长条例\n\n第一条 {paragraphs}\n\n第二条 短。")
    long_parts = [u for u in units if u.article == "第一条"]
    assert len(long_parts) >= 2
    assert [1, 2] == [u.part for u in long_parts[:2]]
    assert long_parts[1].text.startswith("第一条（续）")
    assert "第二条" == units[-1].article


def test_document_without_articles_splits_by_headings():
    units = split_document(SAMPLE_GUIDE)
    assert ["入户前", "入户时"] == [u.article for u in units]
    assert "问清楚家庭困难，记在民情日记里。" == units[1].text


def test_readers_titles(tmp_path):
    md = tmp_path / "任意名字.md"
    md.write_text(SAMPLE_LAW, encoding="utf-8")
    assert "示例县村民互助条例" == read_document(md).title
    txt = tmp_path / "村规民约(2025-03-01).txt"
    txt.write_text("第一条 爱护耕地。", encoding="utf-8")
    assert "村规民约" == read_document(txt).title


def test_reader_docx_and_html(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("示例办法", level=1)
    document.add_paragraph("第一条 村民可以申请互助。")
    document.save(tmp_path / "a.docx")
    doc = read_document(tmp_path / "a.docx")
    assert "示例办法" == doc.title
    assert ["第一条"] == [u.article for u in split_document(doc.text)]

    html = tmp_path / "b.html"
    html.write_text(
        "<html><head><title>网页标题</title></head><body><h1>示例通知</h1>"
        "<p>第一条 按时走访。</p><p>第二条 及时上报。</p><script>x()</script></body></html>",
        encoding="utf-8",
    )
    doc = read_document(html)
    assert "示例通知" == doc.title
    assert ["第一条", "第二条"] == [u.article for u in split_document(doc.text)]


def test_unreadable_pdf_is_reported_not_fatal(tmp_path):
    bad = tmp_path / "坏文件.pdf"
    bad.write_bytes(b"not a pdf at all")
    with pytest.raises(UnreadableDocument):
        read_document(bad)
    (tmp_path / "好文件.md").write_text(SAMPLE_LAW, encoding="utf-8")
    report = pipeline.ingest(synthetic_settings(tmp_path / "data"), [tmp_path])
    assert 1 == report.added
    assert 1 == len(report.errors)


def _settings(tmp_path):
    return synthetic_settings(tmp_path / "data")


def _served(settings) -> IndexStore:
    """The database of the generation being served."""
    return IndexStore(current_generation(settings.index_dir), read_only=True)


def test_incremental_ingest_skips_unchanged_and_replaces_changed(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    law = docs / "互助条例.md"
    law.write_text(SAMPLE_LAW, encoding="utf-8")
    settings = _settings(tmp_path)

    first = pipeline.ingest(settings, [docs])
    assert (1, 0, 5, True) == (first.added, first.unchanged, first.units_written, first.rebuilt)

    again = pipeline.ingest(settings, [docs])
    assert (0, 1, 0, False) == (again.added, again.unchanged, again.units_written, again.rebuilt)

    law.write_text(SAMPLE_LAW.replace("互助金", "帮扶金"), encoding="utf-8")
    changed = pipeline.ingest(settings, [docs])
    assert 1 == changed.updated
    store = _served(settings)
    assert "帮扶金" in store.article_text("示例县村民互助条例", "第三条")
    assert 1 == store.count("law")


def test_prune_removes_documents_whose_files_are_gone(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(SAMPLE_LAW, encoding="utf-8")
    (docs / "b.md").write_text(SAMPLE_GUIDE, encoding="utf-8")
    settings = _settings(tmp_path)
    pipeline.ingest(settings, [docs])
    (docs / "b.md").unlink()
    assert 0 == pipeline.ingest(settings, [docs]).pruned  # without --prune nothing is dropped
    assert 1 == pipeline.ingest(settings, [docs], prune=True).pruned
    assert 1 == _served(settings).count("law")


def test_failed_ingest_leaves_previous_index_usable(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(SAMPLE_LAW, encoding="utf-8")
    settings = _settings(tmp_path)
    pipeline.ingest(settings, [docs])
    question = "家里着火了能申请临时互助吗"
    before = Answerer.from_settings(settings, use_llm=False).answer(question)

    (docs / "b.md").write_text(SAMPLE_GUIDE, encoding="utf-8")
    (docs / "a.md").write_text(SAMPLE_LAW.replace("互助金", "帮扶金"), encoding="utf-8")
    real_split = pipeline.split_document
    calls = []

    def split_then_crash(text):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk unplugged")
        return real_split(text)

    monkeypatch.setattr(pipeline, "split_document", split_then_crash)
    with pytest.raises(RuntimeError):
        pipeline.ingest(settings, [docs])
    monkeypatch.undo()

    after = Answerer.from_settings(settings, use_llm=False).answer(question)
    assert (before.ranked, before.answer) == (after.ranked, after.answer)
    assert "互助金" in _served(settings).article_text("示例县村民互助条例", "第三条")

    # the next run carries on: a.md was stored by the failed run, only b.md is read now
    resumed = pipeline.ingest(settings, [docs])
    assert (True, 1, 1) == (resumed.resumed, resumed.unchanged, resumed.added)
    assert "帮扶金" in _served(settings).article_text("示例县村民互助条例", "第三条")


def test_policy_corpus_ingests_every_article(tmp_path):
    policy = need_policy_corpus()
    settings = _settings(tmp_path)
    settings.embeddings.backend = "none"  # the units are the point here; vectors take minutes
    report = pipeline.ingest(settings, [policy])
    assert (26, 1428) == (report.added, report.units_written)
