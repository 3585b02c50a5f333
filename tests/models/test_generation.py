"""Tests for workbench.models.generation: the prompt, batched greedy generation, and stopping by itself."""

import copy
import json

import pytest

from workbench.models import demo_task
from workbench.models.generation import generate_answers, generate_with_stops, prompt_messages
from workbench.models.rendering import rendering_for


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
    return [row["messages"] for row in demo_task.generate_demo_rows()[1][:count]]


def test_batched_left_padded_generation_equals_one_by_one(base):
    model, tokenizer = base
    conversations = heldout_conversations(6)
    prompts = [tokenizer.apply_chat_template(c[:1], tokenize=False, add_generation_prompt=True) for c in conversations]
    lengths = {len(tokenizer(prompt)["input_ids"]) for prompt in prompts}
    assert len(lengths) > 1, "the prompts must differ in length for padding to matter"
    one_by_one = generate_answers(
        model, tokenizer, rendering_for(tokenizer), conversations, max_new_tokens=6, batch_size=1
    )
    batched = generate_answers(
        model, tokenizer, rendering_for(tokenizer), conversations, max_new_tokens=6, batch_size=4
    )
    assert batched == one_by_one
    assert all(answer == answer.strip() and "<|" not in answer for answer in batched)
    assert tokenizer.padding_side == "right", "the tokenizer's padding side is restored"


def test_answers_are_only_the_new_text(base):
    model, tokenizer = base
    conversation = heldout_conversations(1)[0]
    [answer] = generate_answers(model, tokenizer, rendering_for(tokenizer), [conversation], max_new_tokens=4)
    assert answer and "Which city" not in answer and "assistant" not in answer
    assert len(tokenizer(answer)["input_ids"]) <= 4


def test_a_peft_model_generates_like_its_base_before_training(base):
    from peft import LoraConfig, get_peft_model

    model, tokenizer = base
    conversations = heldout_conversations(3)
    expected = generate_answers(model, tokenizer, rendering_for(tokenizer), conversations, max_new_tokens=5)
    peft_model = get_peft_model(copy.deepcopy(model), LoraConfig(r=4, task_type="CAUSAL_LM"))  # LoRA B starts at 0
    assert (
        generate_answers(peft_model, tokenizer, rendering_for(tokenizer), conversations, max_new_tokens=5) == expected
    )


def test_a_trained_model_ends_its_answers_itself_unless_the_limit_cuts_it_off(trained_home):
    from served import loaded

    from workbench.evaluation.held_out import score_answers

    rows = [json.loads(line) for line in demo_task.DEMO_HELDOUT_FILE.read_text().splitlines()[:8]]
    conversations = [row["messages"] for row in rows]
    with loaded(trained_home.run_id) as tuned:
        whole = generate_with_stops(tuned.model, tuned.tokenizer, tuned.rendering, conversations, 16)
        cut = generate_with_stops(tuned.model, tuned.tokenizer, tuned.rendering, conversations, 1)
        score = score_answers(tuned.model, tuned.tokenizer, tuned.rendering, rows, 16)
    assert [ended for _, ended in whole] == [True] * 8
    assert [ended for _, ended in cut] == [False] * 8
    assert (score.checked, score.ran_on) == (8, 0)
