"""Local figures: quoted with their source when the region is known, else 'set locally'."""

from __future__ import annotations

from bot.config import BUNDLED_KNOWLEDGE, load_settings
from bot.services.answer import Answerer
from bot.services.local_standards import load_standards, local_note
from ingest.pipeline import ingest


def test_bundled_file_is_an_example_region_only():
    standards = load_standards(BUNDLED_KNOWLEDGE)
    assert standards
    assert {"示例县"} == {s.region for s in standards}
    assert all("示例" in s.source for s in standards)


def test_note_quotes_the_region_figure_with_its_source():
    note = local_note(BUNDLED_KNOWLEDGE, "今年低保标准是多少", "示例县")
    assert note.startswith("示例县2026年农村低保标准")
    assert "来源" in note


def test_without_a_region_the_figure_is_said_to_be_local():
    assert "各地不同" in local_note(BUNDLED_KNOWLEDGE, "今年低保标准是多少", None)
    assert "医保" in local_note(BUNDLED_KNOWLEDGE, "医保一年交多少钱", None)
    assert local_note(BUNDLED_KNOWLEDGE, "宅基地谁批", None) is None


def test_answers_use_the_members_region(tmp_path):
    settings = load_settings(tmp_path)
    ingest(settings, [])
    answerer = Answerer.from_settings(settings, use_llm=False)
    with_region = answerer.answer("今年农村低保标准一个月多少钱", region="示例县")
    without = answerer.answer("今年农村低保标准一个月多少钱")
    assert "示例县2026年" in with_region.next_steps
    assert "各地不同" in without.next_steps
