"""Tests for workbench.chat: the Playground's sides and messages, and replies streamed from a real model server (the
tuned model gives the learned answer; its base does not know it)."""

import json

from workbench.chat import playground
from workbench.evaluation.answers import normalise_answer
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.runs import directory


def first_heldout():
    row = json.loads(DEMO_HELDOUT_FILE.read_text().splitlines()[0])
    prompt = [message for message in row["messages"] if message["role"] != "assistant"]
    return prompt, row["messages"][-1]["content"]


def test_the_tuned_side_answers_the_held_out_question_and_the_base_streams_something_else(trained_home):
    run = directory.get_run(trained_home.run_id)
    server, _ = playground.connect()
    tuned, base = playground.sides(run, compare=True)
    assert (tuned.model, base.model, base.reasoning) == (run.run_id, "demo", run.config.reasoning)
    prompt, expected = first_heldout()
    sides = {"tuned": tuned, "base": base}
    asked = {"tuned": prompt, "base": prompt}
    pieces = {"tuned": [], "base": []}
    for name, piece, error in playground.stream_answers(server, asked, sides, {"max_tokens": 16, "seed": 0}):
        assert error is None
        pieces[name].append(piece)
    assert normalise_answer("".join(pieces["tuned"])) == normalise_answer(expected)
    # The demo's answers are one token long, so the untrained base model (which rambles on) shows the streaming.
    assert len(pieces["base"]) >= 2, "the reply arrives in several pieces, not at once"
    assert normalise_answer("".join(pieces["base"])) != normalise_answer(expected)


def test_one_side_unless_comparing(trained_home):
    run = directory.get_run(trained_home.run_id)
    assert [side.name for side in playground.sides(run, compare=False)] == ["tuned"]


def test_system_prompt_goes_first_and_extra_keys_are_dropped():
    history = [{"role": "user", "content": "hi", "model": "tuned"}]
    assert playground.build_messages(history, "  Be brief. ") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]
    assert playground.build_messages(history) == [{"role": "user", "content": "hi"}]


def test_questions_asked_before_compare_was_on_are_found_and_answered_in_place():
    history = [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1", "model": "tuned"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2", "model": "tuned"},
        {"role": "user", "content": "q3"},
    ]
    assert playground.unanswered(history, "tuned") == [4]
    assert playground.unanswered(history, "base") == [0, 2, 4]
    second = history[2]
    playground.add_answer(history, 0, "base", "b1")
    assert playground.position(history, second) == 3
    playground.add_answer(history, 3, "base", "b2")
    assert [turn["content"] for turn in history] == ["q1", "a1", "b1", "q2", "a2", "b2", "q3"]
    assert [turn["content"] for turn in playground.side_turns(history, "base", upto=3)] == ["q1", "b1", "q2"]
    assert playground.unanswered(history, "base") == [6]
