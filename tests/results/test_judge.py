"""Tests for workbench.results.judge: a local model scores a run's evaluated answers against the user's rubric through
the real model server, every score is kept beside the judge's prompt and raw output, the result is saved with the
run, and ``workbench judge`` prints it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_trained_run

from workbench.cli.evaluation import read_rubric
from workbench.config import DEMO_MODEL, RunConfig
from workbench.errors import UserError
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.results import evaluate, judge
from workbench.runs import directory
from workbench.team.identity import Actor


ROOT = Path(__file__).resolve().parents[2]
SCORES = {"exact_match": 1, "f1": 1, "rouge_l": 1, "bleu": 1}
EXAMPLE = {"question": "Where does Ana live?", "expected": "Lima", "base": "Ana was busy.", "tuned": "Lima"}
SIDE = '{"answer": "a", "score": SCORE, "prompt": [], "output": "o"}'
ROW = '{"question": "q", "expected": "e", "tuned": SIDE, "base": SIDE}'


@pytest.mark.parametrize(
    ("output", "score"),
    [
        ("Score: 7\nThe answer names the right city.", 7),
        ("**Score:** 10 - it matches the reference.", 10),
        ("score = 3.5 because it is partly right", 3.5),
        ("The score is 2. Wrong city.", 2),
        ("I would give it 8/10: close to the reference.", 8),
        ("6 out of 10, it rambles.", 6),
        ("  9.\n", 9),
        ("<think>Score: 1 would be harsh</think>Score: 5", 5),
        ("Score: 4. Later: Score: 9", 4),
    ],
)
def test_a_score_is_read_from_what_a_judge_writes(output, score):
    assert judge.parse_score(output) == score


@pytest.mark.parametrize(
    "output",
    [
        "",
        "Paris is the capital.",
        "Score: 0",
        "Score: 11",
        "Score: -3",
        "-3",
        "17/10",
        "underscore 5",
        "42",
        "Score: high",
        "The 3 cities",
    ],
)
def test_junk_and_scores_outside_one_to_ten_are_no_score(output):
    assert judge.parse_score(output) is None


def test_a_judgement_says_it_is_a_model_s_opinion_and_counts_what_had_no_score():
    side = {"answer": "a", "prompt": [], "output": ""}
    rows = [
        {"question": "q1", "expected": "e", "tuned": {**side, "score": 8}, "base": {**side, "score": 2}},
        {"question": "q2", "expected": "e", "tuned": {**side, "score": 6}, "base": {**side, "score": None}},
    ]
    judged = judge.Judgement(judge="demo", rubric="r", source="s", n=2, examples=rows)
    assert judge.summary(judged) == (
        "A model's opinion, not a measurement: demo scored the trained answers 7.0/10 on average and the untrained "
        "2.0/10 (3 answers scored, 1 without a score)."
    )
    one_side = judge.Judgement("demo", "r", "s", 2, [rows[0], {**rows[1], "tuned": {**side, "score": None}}])
    assert "the trained answers 8.0/10 on average and the untrained 2.0/10 (2 answers scored, 2 without" in (
        judge.summary(one_side)
    )
    none = judge.Judgement("demo", "r", "s", 1, [{**rows[1], "tuned": {**side, "score": None}}])
    assert judge.summary(none).startswith("demo gave none of the 2 answers a readable score"), "no '? on average'"


def test_a_run_s_answers_are_judged_and_every_score_keeps_its_prompt_and_output(
    demo_home, trained_demo, tmp_path, monkeypatch
):
    monkeypatch.setattr(judge, "JUDGE_MAX_TOKENS", 24)  # the tiny demo model writes no score anyway; keep it quick
    copy_trained_run(trained_demo, demo_home)
    evaluation = evaluate.evaluate(trained_demo.run_id, data=three_tests(tmp_path))
    seen = []
    rubric = "10: names the same city as the reference. 1: another city or none."
    result = judge.judge(trained_demo.run_id, DEMO_MODEL, rubric, progress=lambda done, total: seen.append(done))
    assert seen == [1, 2, 3, 4, 5, 6], "progress counts both answers of every question"
    assert result.judge == DEMO_MODEL and result.n == 3 and result.source == "the test file my_tests.jsonl"
    for row, evaluated in zip(result.examples, evaluation.examples, strict=True):
        assert row["question"] == evaluated["question"] and row["expected"] == evaluated["expected"]
        for side in ("tuned", "base"):
            judged = row[side]
            assert judged["answer"] == evaluated[side]
            assert judged["output"].strip() and judged["score"] == judge.parse_score(judged["output"])
            [system, asked] = judged["prompt"]
            assert system["role"] == "system" and asked["role"] == "user"
            assert rubric in asked["content"] and evaluated["question"] in asked["content"]
            assert evaluated["expected"] in asked["content"] and evaluated[side] in asked["content"]
    run = directory.get_run(trained_demo.run_id)
    assert judge.read_judgement(run) == result, "kept with the run"
    assert judge.matches(result, evaluation)
    scores = [row[side]["score"] for row in result.examples for side in ("tuned", "base")]
    opening = "A model's opinion, not a measurement: " if any(scores) else ""
    assert judge.summary(result).startswith(f"{opening}{DEMO_MODEL} ")


def test_the_command_line_judges_with_a_rubric_file_and_prints_json(demo_home, trained_demo, tmp_path):
    copy_trained_run(trained_demo, demo_home)
    write_evaluation(demo_home / "runs" / trained_demo.run_id)
    rubric = tmp_path / "rubric.txt"
    rubric.write_text("10: the right city. 1: a wrong one.\n", encoding="utf-8")
    command = ["judge", trained_demo.run_id, "--judge", DEMO_MODEL, "--rubric-file", str(rubric), "--json"]
    done = workbench(demo_home, *command)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = json.loads(done.stdout)
    assert printed["judge"] == DEMO_MODEL and printed["rubric"] == "10: the right city. 1: a wrong one."
    [row] = printed["examples"]
    assert row["tuned"]["answer"] == EXAMPLE["tuned"] and row["base"]["answer"] == EXAMPLE["base"]
    assert all(set(row[side]) == {"answer", "score", "prompt", "output"} for side in ("tuned", "base"))
    refused = workbench(demo_home, "judge", trained_demo.run_id, "--judge", "no-such-model", "--rubric", "be fair")
    assert (
        refused.returncode == 2 and "There is no finished run or base model called 'no-such-model'" in refused.stderr
    )


def test_what_cannot_be_judged_is_refused_in_a_sentence(home):
    run = directory.create_run(RunConfig(run_name="mine"), owner="alice")
    with pytest.raises(UserError, match="^Evaluate the run first; "):
        judge.judge(run.run_id, DEMO_MODEL, "10: right.")
    with pytest.raises(UserError, match="^The rubric is empty; "):
        judge.judge(run.run_id, DEMO_MODEL, "  \n ")
    with pytest.raises(UserError, match=f"^The rubric has 2001 characters; .* at most {judge.MAX_RUBRIC_CHARS}"):
        judge.judge(run.run_id, DEMO_MODEL, "x" * 2001)
    with pytest.raises(UserError, match="that you can see"):
        judge.judge(run.run_id, DEMO_MODEL, "10: right.", Actor("mallory"))
    assert judge.check_rubric(" " + "x" * 2000 + "\n") == "x" * 2000


def test_a_judge_model_the_user_may_not_use_is_refused(demo_home, trained_demo, tmp_path):
    copy_trained_run(trained_demo, demo_home)
    copy_trained_run(trained_demo, demo_home, run_id="bobs-run")
    directory.update_status(demo_home / "runs" / "bobs-run", owner="bob")
    directory.update_status(demo_home / "runs" / trained_demo.run_id, owner="alice")
    write_evaluation(demo_home / "runs" / trained_demo.run_id)
    with pytest.raises(UserError, match="called 'bobs-run'"):
        judge.judge(trained_demo.run_id, "bobs-run", "10: right.", Actor("alice"))


def test_a_rubric_file_is_read_only_as_far_as_a_rubric_may_be_long(tmp_path):
    long = tmp_path / "long.txt"
    long.write_text("é" * 9000, encoding="utf-8")
    with pytest.raises(UserError, match="is longer than 2000 characters"):
        read_rubric(long)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"caf\xe9")
    with pytest.raises(UserError, match="is not UTF-8 text"):
        read_rubric(latin)
    with pytest.raises(UserError, match="^Cannot read the rubric file"):
        read_rubric(tmp_path / "missing.txt")


@pytest.mark.parametrize(
    ("content", "readable"),
    [
        ("not json", False),
        ("[1, 2]", False),
        ('{"judge": "demo", "rubric": "r", "source": "s", "n": 1, "examples": [ROW]}', True),
        ('{"judge": "demo", "rubric": "r", "source": "s", "n": 2, "examples": [ROW]}', False),
        ('{"judge": "demo", "rubric": "r", "source": "s", "n": 1, "examples": [ROW], "extra": 1}', False),
        ('{"judge": 3, "rubric": "r", "source": "s", "n": 1, "examples": [ROW]}', False),
        ('{"judge": "demo", "rubric": "r", "source": "s", "n": 1, "examples": [{"question": "q"}]}', False),
    ],
)
@pytest.mark.parametrize(("score", "good_score"), [("7", True), ("null", True), ("11", False), ('"7"', False)])
def test_a_damaged_judgement_file_reads_as_none_and_breaks_no_page(home, content, readable, score, good_score):
    run = directory.create_run(RunConfig(run_name="damaged"))
    text = content.replace("ROW", ROW).replace("SIDE", SIDE).replace("SCORE", score)
    (run.path / judge.JUDGEMENT_FILE).write_text(text)
    assert (judge.read_judgement(run) is not None) == (readable and good_score)


def three_tests(folder: Path) -> Path:
    """A test file of the first three held-out demo conversations, so an evaluation takes seconds."""
    test_file = folder / "my_tests.jsonl"
    test_file.write_text("".join(DEMO_HELDOUT_FILE.read_text().splitlines(keepends=True)[:3]))
    return test_file


def write_evaluation(run_dir: Path) -> None:
    """A saved evaluation of one hand-made example, so a judgement takes two answers of the judge."""
    evaluation = {"source": "s", "n": 1, "base": SCORES, "tuned": SCORES, "examples": [EXAMPLE]}
    (run_dir / evaluate.EVALUATION_FILE).write_text(json.dumps(evaluation))


def workbench(home: Path, *arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    command = [sys.executable, "-m", "workbench.cli", *arguments]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)


def test_an_answer_the_server_refuses_is_no_score_and_the_others_are_still_judged(
    demo_home, trained_demo, tmp_path, monkeypatch
):
    monkeypatch.setattr(judge, "JUDGE_MAX_TOKENS", 8)
    copy_trained_run(trained_demo, demo_home)
    evaluate.evaluate(trained_demo.run_id, data=three_tests(tmp_path))
    real, calls = judge.client.stream_chat, []

    def refusing_once(*args, **kwargs):
        # A GPU running out of memory for one long answer cannot happen on this CPU: the server's refusal is raised
        calls.append(1)
        if len(calls) == 2:
            raise UserError("The GPU ran out of memory for this conversation; try a shorter one.")
        return real(*args, **kwargs)

    monkeypatch.setattr(judge.client, "stream_chat", refusing_once)
    result = judge.judge(trained_demo.run_id, DEMO_MODEL, "10: right city.")
    refused = result.examples[0]["base"]
    assert refused["score"] is None and "refused: The GPU ran out of memory" in refused["output"]
    assert len(calls) == 6 and result.n == 3, "the other five answers were judged"
    assert re.search("without a score|gave none of the 6 answers", judge.summary(result))

    def gone(*args, **kwargs):
        raise judge.client.ServerGone("The model server stopped; it is started again with your next message.")

    monkeypatch.setattr(judge.client, "stream_chat", gone)
    with pytest.raises(judge.client.ServerGone):
        judge.judge(trained_demo.run_id, DEMO_MODEL, "10: right city.")
