"""The fitted answer model: trained on the project's own questions only, and kept in step."""

from __future__ import annotations

import json
import re
from difflib import SequenceMatcher
from pathlib import Path

import pytest
from policy_support import DEV_QUESTIONS, POLICY, SAMPLE_LAW, synthetic_settings

from bot.config import BUNDLED_KNOWLEDGE
from bot.search.learned import AnswerModel
from bot.search.memory import memory_hashes, question_hash
from bot.services.fitting import training_files

TRAIN = Path(__file__).resolve().parents[1] / "train"


def _questions(files):
    return [json.loads(line) for f in files for line in f.read_text("utf-8").splitlines() if line]


def test_training_set_is_large_enough_and_labelled_with_real_articles():
    questions = _questions(training_files(TRAIN))
    inside = [q for q in questions if q["gold"]]
    assert len(inside) >= 300 and len(questions) - len(inside) >= 100
    assert {q["style"] for q in questions} == {"colloquial", "situational", "formal", "typo"}
    assert len({q["id"] for q in questions}) == len(questions)
    # out of scope for the policy set: whether some law answers it (the OPEN model set)
    assert {q.get("kind") for q in questions if not q["gold"]} == {"law", "other"}
    if not POLICY.is_dir():
        pytest.skip("../shared/corpus/policy is not beside this checkout")
    articles = {}
    for path in POLICY.glob("*.md"):
        text = path.read_text("utf-8")
        title = text.splitlines()[0].removeprefix("# ").strip()
        articles[title] = set(re.findall(r"^(第[零〇一二三四五六七八九十百千]+条)", text, re.M))
    for q in inside:
        for gold in q["gold"]:
            assert gold["article"] in articles[gold["doc"]], q["id"]


def test_no_training_question_repeats_an_evaluation_question():
    """The dev set is for validation only: a training question (nearly) the same as one of its
    questions would let the fit see it. Such questions were dropped from train/."""
    if not DEV_QUESTIONS.is_file():
        pytest.skip("../shared/eval is not beside this checkout")
    held = [q["question"] for q in _questions([DEV_QUESTIONS])]
    for q in _questions(training_files(TRAIN)):
        for other in held:
            matcher = SequenceMatcher(None, q["question"], other)
            assert matcher.quick_ratio() <= 0.8 or matcher.ratio() <= 0.8, q["id"]


def test_bundled_model_names_only_the_training_files():
    model = AnswerModel.load(BUNDLED_KNOWLEDGE / "answer_model.json")
    assert model is not None and {"dense", "keyword"} <= set(model.modes)
    assert model.trained_on == ", ".join(f.name for f in training_files(TRAIN))
    assert "dev" not in model.trained_on


def test_bundled_memory_is_the_current_training_questions():
    """Fails when a training question changes and `lianhu fit` was not run again."""
    questions = _questions(training_files(TRAIN))
    assert memory_hashes(BUNDLED_KNOWLEDGE) == [question_hash(q["question"]) for q in questions]


def test_fit_cross_validates_and_writes_both_files(tmp_path):
    """`lianhu fit` over a small made-up law in keyword mode: a model file and a report."""
    from bot.search.loader import load_retriever
    from bot.services.fitting import fit
    from ingest.pipeline import ingest

    law = tmp_path / "law.md"
    law.write_text(SAMPLE_LAW, encoding="utf-8")
    settings = synthetic_settings(tmp_path / "data")
    settings.embeddings.backend = "none"
    ingest(settings, [law])
    train = tmp_path / "train"
    train.mkdir()
    rows = [
        ("家里收入低能申请互助金不", "第三条"),
        ("着火了日子过不下去能申请啥", "第四条"),
        ("得了重病看不起能申请啥", "第五条"),
        ("村里谁来组织互助", "第二条"),
    ] * 3
    lines = [
        {
            "id": f"t{i}",
            "question": q,
            "style": "colloquial",
            "topic": "x",
            "gold": [{"doc": "示例县村民互助条例", "article": a}],
        }
        for i, (q, a) in enumerate(rows)
    ] + [
        {"id": f"o{i}", "question": q, "style": "colloquial", "topic": "out_of_scope", "gold": []}
        for i, q in enumerate(["火车票咋买", "手机话费咋充", "红烧肉咋做", "明天下雨不"] * 2)
    ]
    (train / "set.jsonl").write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8"
    )
    out = tmp_path / "answer_model.json"
    report = fit(load_retriever(settings), train, out)
    assert set(report) == {"keyword"}
    cv = report["keyword"]["cv"]
    assert cv["n_in_scope"] == 12 and cv["n_out_of_scope"] == 8
    assert 0 <= cv["hit@5"] <= 1 and "by_style" in cv
    model = AnswerModel.load(out)
    assert model is not None and model.trained_on == "set.jsonl"
    assert model.documents == ("示例县村民互助条例",)
    assert 0 < model.modes["keyword"].threshold < 1


def test_a_model_fitted_for_other_signals_falls_back_to_the_bundled_one(tmp_path, caplog):
    """After an upgrade changes the signals, a data directory's own fit is passed over (with
    a log line) for the bundled model, not for answering with no model at all."""
    from bot.config import load_settings
    from bot.search.loader import MODEL_FILE, answer_model

    settings = load_settings(tmp_path / "data")
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    bundled = json.loads((BUNDLED_KNOWLEDGE / MODEL_FILE).read_text("utf-8"))
    own = settings.index_dir / MODEL_FILE
    own.write_text(json.dumps(bundled, ensure_ascii=False), encoding="utf-8")
    assert answer_model(settings)[0] == settings.index_dir

    # one mode fitted for a signal since removed (the other still current) is enough: the
    # outdated mode would otherwise rank by unweighted sums and never refuse
    dense = bundled["modes"]["dense"]
    dense["refusal"]["features"] = dense["refusal"]["features"][:-1]
    own.write_text(json.dumps(bundled, ensure_ascii=False), encoding="utf-8")
    with caplog.at_level("WARNING"):
        folder, model = answer_model(settings)
        assert folder == BUNDLED_KNOWLEDGE and {"dense", "keyword"} <= set(model.modes)
    assert "lianhu fit" in caplog.text
