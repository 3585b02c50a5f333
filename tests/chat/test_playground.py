"""Tests for workbench.chat: the tuned model streams the learned answer; the base model does not know it."""

import json

from workbench.chat import playground
from workbench.evaluation.answers import normalise_answer
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.models.generation import generate_answers
from workbench.runs import directory


def first_heldout():
    row = json.loads(DEMO_HELDOUT_FILE.read_text().splitlines()[0])
    prompt = [message for message in row["messages"] if message["role"] != "assistant"]
    return prompt, row["messages"][-1]["content"]


def test_tuned_model_answers_the_held_out_question(trained_home):
    run = directory.get_run(trained_home.run_id)
    tuned = playground.load_tuned(run)
    prompt, expected = first_heldout()
    assert normalise_answer("".join(playground.stream_reply(tuned, prompt, max_new_tokens=32))) == normalise_answer(
        expected
    )


def test_base_model_streams_piece_by_piece_without_the_adapter(trained_home):
    run = directory.get_run(trained_home.run_id)
    base = playground.load_base(run.config)
    assert base.label == "base" and not hasattr(base.model, "peft_config")
    prompt, expected = first_heldout()
    pieces = list(playground.stream_reply(base, prompt, max_new_tokens=16))
    # The demo's answers are one token long, so the untrained base model (which rambles on) shows the streaming.
    assert len(pieces) >= 2, "the reply arrives in several pieces, not at once"
    whole = generate_answers(base.model, base.tokenizer, base.rendering, [prompt], max_new_tokens=16)[0]
    assert "".join(pieces).strip() == whole, "streaming gives the same text as one greedy generation"
    assert normalise_answer(whole) != normalise_answer(expected)


def test_system_prompt_goes_first_and_extra_keys_are_dropped():
    history = [{"role": "user", "content": "hi", "model": "tuned"}]
    assert playground.build_messages(history, "  Be brief. ") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]
    assert playground.build_messages(history) == [{"role": "user", "content": "hi"}]
