"""Tests for workbench.evaluation: answer normalisation, exact match and batched greedy generation."""

import copy
import json

import pytest

from workbench import demo
from workbench.evaluation import (
    EvalResult,
    evaluate_exact_match,
    exact_match,
    generate_answers,
    generate_with_stops,
    normalise_answer,
    prompt_messages,
    side_by_side,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Porto ", "porto"),
        ("Porto.", "porto"),
        ("PORTO!?", "porto"),
        ("New   York\n City", "new york city"),
        ("São Paulo", "são paulo"),
        ("Straße", "strasse"),
        ("3.5", "3.5"),
        ("...", ""),
        ("", ""),
    ],
)
def test_normalise_answer(text, expected):
    assert normalise_answer(text) == expected


def test_exact_match_counts_normalised_equality():
    assert exact_match(["Porto.", "lisbon", "Paris is nice"], ["Porto", "Lisbon", "Paris"]) == pytest.approx(2 / 3)
    assert exact_match(["a"], ["a"]) == 1.0
    assert exact_match(["a"], ["b"]) == 0.0
    assert exact_match([], []) == 0.0


def test_exact_match_rejects_lists_of_different_lengths():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        exact_match(["a", "b"], ["a"])


def test_prompt_messages_drops_only_a_final_assistant_turn():
    system = {"role": "system", "content": "Be brief."}
    user = {"role": "user", "content": "hi"}
    reply = {"role": "assistant", "content": "hello"}
    assert prompt_messages([system, user, reply]) == [system, user]
    assert prompt_messages([user, reply, user]) == [user, reply, user]
    assert prompt_messages([]) == []


# ---------------------------------------------------------------- with the demo model


@pytest.fixture(scope="module")
def base(demo_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(demo_model_dir), AutoTokenizer.from_pretrained(demo_model_dir)


def heldout_conversations(count: int) -> list[list[dict]]:
    return [row["messages"] for row in demo.generate_demo_rows()[1][:count]]


def test_batched_left_padded_generation_equals_one_by_one(base):
    model, tokenizer = base
    conversations = heldout_conversations(6)
    prompts = [tokenizer.apply_chat_template(c[:1], tokenize=False, add_generation_prompt=True) for c in conversations]
    lengths = {len(tokenizer(prompt)["input_ids"]) for prompt in prompts}
    assert len(lengths) > 1, "the prompts must differ in length for padding to matter"
    one_by_one = generate_answers(model, tokenizer, conversations, max_new_tokens=6, batch_size=1)
    batched = generate_answers(model, tokenizer, conversations, max_new_tokens=6, batch_size=4)
    assert batched == one_by_one
    assert all(answer == answer.strip() and "<|" not in answer for answer in batched)
    assert tokenizer.padding_side == "right", "the tokenizer's padding side is restored"


def test_answers_are_only_the_new_text(base):
    model, tokenizer = base
    conversation = heldout_conversations(1)[0]
    [answer] = generate_answers(model, tokenizer, [conversation], max_new_tokens=4)
    assert answer and "Which city" not in answer and "assistant" not in answer
    assert len(tokenizer(answer)["input_ids"]) <= 4


def test_evaluate_exact_match_reports_score_and_examples(base):
    model, tokenizer = base
    rows = demo.generate_demo_rows()[1][:5]
    result = evaluate_exact_match(model, tokenizer, rows, max_new_tokens=demo.DEMO_MAX_NEW_TOKENS)
    assert isinstance(result, EvalResult) and result.n == 5 and len(result.examples) == 5
    for row, (prompt, expected, predicted) in zip(rows, result.examples, strict=True):
        assert prompt == row["messages"][0]["content"]
        assert expected == row["messages"][-1]["content"]
        assert isinstance(predicted, str)
    predictions = [predicted for _, _, predicted in result.examples]
    assert result.score == exact_match(predictions, [expected for _, expected, _ in result.examples])


def test_evaluate_exact_match_needs_an_expected_answer(base):
    model, tokenizer = base
    with pytest.raises(ValueError, match="must end with an assistant message"):
        evaluate_exact_match(model, tokenizer, [{"messages": [{"role": "user", "content": "hi"}]}], 4)


def test_a_peft_model_generates_like_its_base_before_training(base):
    from peft import LoraConfig, get_peft_model

    model, tokenizer = base
    conversations = heldout_conversations(3)
    expected = generate_answers(model, tokenizer, conversations, max_new_tokens=5)
    peft_model = get_peft_model(copy.deepcopy(model), LoraConfig(r=4, task_type="CAUSAL_LM"))  # LoRA B starts at 0
    assert generate_answers(peft_model, tokenizer, conversations, max_new_tokens=5) == expected


def test_side_by_side_pairs_each_question_with_both_answers():
    scores = {
        "base": {
            "examples": [["Which city? Ana in Oslo.", "Oslo", "Madrid"], ["Which city? Bo in Rome.", "Rome", "x"]]
        },
        "tuned": {
            "examples": [["Which city? Ana in Oslo.", "Oslo", "oslo."], ["Which city? Bo in Rome.", "Rome", "Paris"]]
        },
    }
    rows = side_by_side(scores)
    assert rows[0] == {
        "question": "Which city? Ana in Oslo.",
        "expected": "Oslo",
        "untrained": "Madrid",
        "trained": "oslo.",
        "match": "yes",
    }
    assert (rows[1]["untrained"], rows[1]["match"]) == ("x", "no")
    assert side_by_side({"base": scores["base"], "tuned": None}) == []


def test_a_trained_model_ends_its_answers_itself_unless_the_limit_cuts_it_off(trained_home):
    from workbench import chat, runs

    tuned = chat.load_tuned(runs.get_run(trained_home.run_id))
    rows = [json.loads(line) for line in demo.DEMO_HELDOUT_FILE.read_text().splitlines()[:8]]
    conversations = [row["messages"] for row in rows]
    assert [ended for _, ended in generate_with_stops(tuned.model, tuned.tokenizer, conversations, 16)] == [True] * 8
    cut = generate_with_stops(tuned.model, tuned.tokenizer, conversations, 1)
    assert [ended for _, ended in cut] == [False] * 8
    result = evaluate_exact_match(tuned.model, tuned.tokenizer, rows, 16)
    assert (result.checked, result.ran_on) == (8, 0)
