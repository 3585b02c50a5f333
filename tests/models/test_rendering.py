"""Tests for workbench.models.rendering, the rendering contract, over real families' chat templates that nobody here
wrote (TRL ships them): the trained tokens are exactly the answers and their end-of-turn token, the chat prompt is
the training rendering up to the answer, reasoning blocks follow one setting, and a short LoRA run on the demo task
learns every family's format and stops by itself."""

import copy
import json
from types import SimpleNamespace

import pytest
from conftest import run_training
from served import loaded
from tiny_families import FAMILIES, family_model, family_tokenizer
from tiny_tokenizers import WITHOUT_END, build_tokenizer

from workbench.evaluation.answers import expected_answer
from workbench.models import loading
from workbench.models.demo_task import DEMO_HELDOUT_FILE, generate_demo_rows
from workbench.models.generation import generate_with_stops
from workbench.models.rendering import (
    RenderingError,
    encode,
    rendering_for,
    saved_rendering,
    stop_token_ids,
    strip_reasoning,
)
from workbench.planning import presets
from workbench.runs import directory, held_out_scores, record


ROW = {"messages": [{"role": "user", "content": "Which city? Ana in Oslo."}, {"role": "assistant", "content": "Oslo"}]}
TWO_TURNS = {
    "messages": [
        {"role": "user", "content": "Which city? Ana in Oslo."},
        {"role": "assistant", "content": "Oslo"},
        {"role": "user", "content": "And here? Bo in Rome."},
        {"role": "assistant", "content": "Rome"},
    ]
}


def learned_text(tokenizer, encoded) -> str:
    return tokenizer.decode(
        [token for token, label in zip(encoded.input_ids, encoded.labels, strict=True) if label != -100]
    )


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request, demo_model_dir):
    name = request.param
    return name, FAMILIES[name], family_tokenizer(demo_model_dir, name)


def test_each_family_trains_exactly_its_answers_and_their_end_of_turn_token(family):
    _, expected, tokenizer = family
    rendering = rendering_for(tokenizer)
    assert (rendering.end_of_turn, rendering.answer_prefix) == (expected.end_of_turn, expected.answer_prefix)
    assert rendering.origin.startswith("TRL's training version of the"), "their own templates have no markers"
    closing = "{}" + expected.end_of_turn  # a channel header (gpt-oss) belongs to the prompt without reasoning
    assert learned_text(tokenizer, encode(rendering, tokenizer, ROW)) == closing.format("Oslo")
    earlier = "Oslo" + (expected.turn_end or expected.end_of_turn)
    both = learned_text(tokenizer, encode(rendering, tokenizer, TWO_TURNS))
    assert both == earlier + closing.format("Rome"), "every answer of a conversation is learned, each with its closer"


def test_each_familys_chat_prompt_is_the_training_rendering_up_to_the_answer(family):
    _, expected, tokenizer = family
    rendering = rendering_for(tokenizer)
    prompt = rendering.prompt(tokenizer, ROW["messages"])
    text = encode(rendering, tokenizer, ROW).text
    assert prompt.endswith(expected.answer_prefix) and text.startswith(prompt)
    assert text[len(prompt) :].startswith("Oslo")
    assert rendering.end_of_turn_id(tokenizer) in stop_token_ids(tokenizer, rendering)
    generated = tokenizer(expected.answer_prefix + "Oslo" + expected.end_of_turn + " junk", add_special_tokens=False)
    assert rendering.answer(tokenizer, generated["input_ids"]) == "Oslo"


def test_reasoning_is_dropped_or_kept_by_one_setting_and_an_empty_block_is_never_learned(demo_model_dir):
    tokenizer = family_tokenizer(demo_model_dir, "qwen3")
    reasoned = copy.deepcopy(ROW)
    reasoned["messages"][1]["content"] = "<think>\nAna is a person, Oslo a city.\n</think>\n\nOslo"
    dropped = rendering_for(tokenizer, "drop")
    assert dropped.prompt(tokenizer, ROW["messages"]).endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    for row in (ROW, reasoned):
        assert learned_text(tokenizer, encode(dropped, tokenizer, row)) == "Oslo<|im_end|>"
    kept = rendering_for(tokenizer, "keep")
    learned = learned_text(tokenizer, encode(kept, tokenizer, reasoned))
    assert learned == "<think>\nAna is a person, Oslo a city.\n</think>\n\nOslo<|im_end|>"
    assert learned_text(tokenizer, encode(kept, tokenizer, ROW)) == "Oslo<|im_end|>", "no empty block as an answer"
    assert kept.prompt(tokenizer, ROW["messages"]).endswith("<|im_start|>assistant\n"), "then it thinks first"
    thought = tokenizer("<think>\nhm\n</think>\n\nOslo<|im_end|>", add_special_tokens=False)["input_ids"]
    assert kept.answer(tokenizer, thought) == "Oslo" and expected_answer(reasoned["messages"]) == "Oslo"
    assert strip_reasoning("<think>\ncut off before it clos") == "" and strip_reasoning("Oslo") == "Oslo"


def test_a_template_that_never_closes_an_answer_is_refused_with_a_sentence():
    with pytest.raises(RenderingError, match="could not learn to stop") as caught:
        rendering_for(build_tokenizer(WITHOUT_END))
    assert caught.value.code == "template_no_end_of_turn"
    with pytest.raises(RenderingError, match="has no chat template"):
        rendering_for(build_tokenizer(None))


def test_stop_ids_join_eos_the_generation_config_and_the_end_of_turn_token(demo_model_dir):
    tokenizer = family_tokenizer(demo_model_dir, "gemma3")  # <end_of_turn> closes answers, <eos> is eos
    end, eos = tokenizer.convert_tokens_to_ids("<end_of_turn>"), tokenizer.eos_token_id
    assert end != eos
    model = SimpleNamespace(generation_config=SimpleNamespace(eos_token_id=[5, 7]))
    assert stop_token_ids(tokenizer, rendering_for(tokenizer), model) == sorted({5, 7, end, eos})


def test_the_demo_run_saves_its_rendering_and_chat_uses_it(trained_home):
    run = directory.get_run(trained_home.run_id)
    rows = [json.loads(line) for line in DEMO_HELDOUT_FILE.read_text().splitlines()[:6]]
    with loaded(run.run_id) as tuned:
        assert saved_rendering(run.adapter_dir, tuned.tokenizer) == tuned.rendering
        assert tuned.rendering.origin == "the model's own chat template"
        conversations = [row["messages"] for row in rows]
        generated = generate_with_stops(tuned.model, tuned.tokenizer, tuned.rendering, conversations, 16)
    assert [ended for _, ended in generated] == [True] * 6
    assert [answer for answer, _ in generated] == [row["messages"][-1]["content"] for row in rows]
    assert dict(record.record_facts(record.read_record(run.path)))["Chat template"].startswith("the model's own")


def fitted_max_length(tokenizer) -> int:
    """The demo recipe's max length, or more where a family's template (a system prompt) makes rows longer."""
    rendering = rendering_for(tokenizer)
    longest = max(len(encode(rendering, tokenizer, row).input_ids) for row in generate_demo_rows()[0])
    return max(64, -(-longest // 32) * 32)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_a_short_lora_run_learns_the_demo_task_under_each_familys_template(demo_home, tmp_path, name, capsys):
    folder = family_model(demo_home / "models" / "demo", name, tmp_path / name)
    max_length = fitted_max_length(loading.load_tokenizer(str(folder)))
    # 4 of the demo recipe's 10 epochs: the demo task is learnt within 2 (the loss is near 0 by step 20 of 160)
    config = presets.demo_config(model=str(folder), run_name=name, max_length=max_length, num_train_epochs=4)
    run = run_training(config)
    status = directory.read_status(run.path)
    assert status.state == "succeeded", directory.tail_log(run.path)
    scores = held_out_scores.read_scores(run.path)
    with capsys.disabled():
        print(
            f"\n{name}: held-out exact match {scores.base.exact_match:.0%} -> {scores.tuned.exact_match:.0%}, "
            f"answers ended by the model {scores.tuned.checked - scores.tuned.ran_on}/{scores.tuned.checked}, "
            f"max length {max_length}"
        )
    assert scores.base.exact_match <= 0.10 and scores.tuned.exact_match >= 0.80
    assert scores.tuned.ran_on <= scores.tuned.checked // 10, "the tuned answers stop by themselves"
    assert record.read_record(run.path)["chat_template"].startswith("TRL's training version of the")
