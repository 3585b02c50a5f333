"""Tests for workbench.results.evaluate: a finished run's base and trained model answer through the real model
server, every answer is scored, the result is saved with the run, and ``workbench eval`` prints it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_trained_run

from workbench import schedule
from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.results import evaluate
from workbench.runs import directory, held_out_scores
from workbench.team.identity import Actor


ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_run_is_evaluated_on_its_held_out_split_and_the_result_is_kept(demo_home, trained_demo):
    copy_trained_run(trained_demo, demo_home)
    seen = []
    result = evaluate.evaluate(trained_demo.run_id, progress=lambda done, total: seen.append((done, total)))
    trained_scores = held_out_scores.read_scores(directory.get_run(trained_demo.run_id).path)
    assert result.n == trained_scores.tuned.n == 64 and result.source == "the held-out split"
    assert seen[-1] == (128, 128), "progress counts both models' answers"
    assert result.tuned["exact_match"] == pytest.approx(trained_scores.tuned.exact_match, abs=0.05), (
        "the model server's greedy answers agree with the scores taken in training"
    )
    for metric in ("exact_match", "f1", "rouge_l"):
        assert result.base[metric] < result.tuned[metric], metric
    base, tuned = result.behaviour["base"], result.behaviour["tuned"]
    assert tuned["loss"] < 0.5 < base["loss"] and tuned["perplexity"] < base["perplexity"], "the answers were learned"
    assert tuned["stops"] == 1.0 and tuned["length_ratio"] == 1.0, "the trained demo ends each answer at its length"
    first = result.examples[0]
    assert set(first) >= {"question", "expected", "base", "tuned", "tuned_match", "tuned_f1", "base_rouge_l"}
    assert first["tuned_answer_tokens"] == first["base_answer_tokens"] > 0, "both losses are over the same reference"
    assert "Answer-token loss" in evaluate.summary(result) and "ends its answers by itself" in evaluate.summary(result)
    assert evaluate.read_evaluation(directory.get_run(trained_demo.run_id)) == result
    assert evaluate.summary(result).startswith("On the held-out split (64 conversations), untrained -> trained:")


def test_a_test_file_is_evaluated_and_the_command_line_prints_it(demo_home, trained_demo, tmp_path):
    copy_trained_run(trained_demo, demo_home)
    test_file = tmp_path / "my_tests.jsonl"
    test_file.write_text("".join(DEMO_HELDOUT_FILE.read_text().splitlines(keepends=True)[:3]))
    env = {**os.environ, "WORKBENCH_HOME": str(demo_home)}
    command = [sys.executable, "-m", "workbench.cli", "eval", trained_demo.run_id, "--data", str(test_file), "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = json.loads(done.stdout)
    assert printed["n"] == 3 and printed["source"] == "the test file my_tests.jsonl"
    assert [row["expected"] for row in printed["examples"]] == [
        json.loads(line)["messages"][-1]["content"] for line in test_file.read_text().splitlines()
    ]


def test_what_cannot_be_evaluated_is_refused_in_a_sentence(demo_home, trained_demo, tmp_path):
    copy_trained_run(trained_demo, demo_home)
    plain = tmp_path / "Plain_Notes.jsonl"
    plain.write_text('{"text": "no answers here"}\n' * 3)
    with pytest.raises(UserError, match="^The test file Plain_Notes.jsonl has no chat conversations that end with"):
        evaluate.evaluate(trained_demo.run_id, data=plain)
    with pytest.raises(UserError, match="that you can see"):
        evaluate.evaluate(trained_demo.run_id, Actor("mallory"))


def test_a_run_that_kept_no_held_out_split_is_told_to_pick_a_saved_dataset(home):
    identity = Path(__file__).parents[1] / "datasets" / "llamafactory_identity.json"  # Alpaca rows, 91 of them
    all_trained = directory.create_run(RunConfig(dataset=str(identity), validation_fraction=0.0))
    with pytest.raises(UserError, match="^This run kept no held-out conversations .* a dataset saved in the library"):
        evaluate.conversations_to_evaluate(all_trained, None)
    held_back = directory.create_run(RunConfig(dataset=str(identity), validation_fraction=0.1))
    conversations, source = evaluate.conversations_to_evaluate(held_back, None)
    assert source == "the held-out split" and len(conversations) == schedule.held_out_count(91, 0.1) > 0
    assert all(conversation[-1]["role"] == "assistant" for conversation in conversations), "Alpaca rows as chats"


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2]",
        '{"source": "x", "n": 1, "base": {}, "tuned": {}, "examples": []}',
        '{"source": "x", "n": 1, "base": SCORE, "tuned": SCORE, "examples": [1]}',
        '{"source": "x", "n": 1, "base": SCORE, "tuned": SCORE, "examples": [{"question": 3}]}',
        '{"source": "x", "n": 1, "base": SCORE, "tuned": SCORE, "examples": [], "extra": 1}',
    ],
)
def test_a_damaged_evaluation_file_reads_as_none_and_breaks_no_page(home, content):
    run = directory.create_run(RunConfig(run_name="damaged"))
    score = '{"exact_match": 1, "f1": 1, "rouge_l": 1, "bleu": 1}'
    (run.path / evaluate.EVALUATION_FILE).write_text(content.replace("SCORE", score))
    assert evaluate.read_evaluation(run) is None
    (run.path / evaluate.EVALUATION_FILE).write_text(content.replace("SCORE", score).replace(', "extra": 1', ""))
    if content.endswith('"examples": [], "extra": 1}'):
        assert evaluate.read_evaluation(run).n == 1, "the same file without the stray field is read"
