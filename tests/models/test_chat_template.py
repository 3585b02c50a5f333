"""Stop tokens: generation ends at the chat template's end-of-turn token even when the tokenizer's eos is another."""

import copy
import json
from types import SimpleNamespace

from workbench.chat import playground
from workbench.models import loading
from workbench.models.chat_template import stop_token_ids, template_end_of_turn_ids
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.models.generation import generate_with_stops
from workbench.runs import directory


def with_other_eos(tokenizer):
    """The tokenizer as a Qwen base model has it: ChatML turns end with <|im_end|>, but eos is <|endoftext|>."""
    other = copy.deepcopy(tokenizer)
    other.add_special_tokens({"eos_token": "<|endoftext|>"})
    return other


def test_the_demo_template_ends_answers_with_its_eos(demo_model_dir):
    tokenizer = loading.load_tokenizer(str(demo_model_dir))
    assert template_end_of_turn_ids(tokenizer) == [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    assert stop_token_ids(tokenizer) == [tokenizer.eos_token_id]


def test_stop_ids_join_eos_the_generation_config_and_the_template(demo_model_dir):
    tokenizer = with_other_eos(loading.load_tokenizer(str(demo_model_dir)))
    im_end, eos = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.eos_token_id
    assert im_end != eos
    model = SimpleNamespace(generation_config=SimpleNamespace(eos_token_id=[5, 7]))
    assert stop_token_ids(tokenizer, model) == sorted({5, 7, im_end, eos})


def test_a_model_whose_turns_end_before_eos_still_stops_and_scores(trained_home):
    tuned = playground.load_tuned(directory.get_run(trained_home.run_id))
    tokenizer = with_other_eos(tuned.tokenizer)
    tuned.model.generation_config.eos_token_id = tokenizer.eos_token_id  # as such a model's config says too
    rows = [json.loads(line) for line in DEMO_HELDOUT_FILE.read_text().splitlines()[:6]]
    generated = generate_with_stops(tuned.model, tokenizer, [row["messages"] for row in rows], 16)
    assert [ended for _, ended in generated] == [True] * 6
    assert [answer for answer, _ in generated] == [row["messages"][-1]["content"] for row in rows]
