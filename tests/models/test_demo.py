"""Tests for workbench.demo: the generated demo dataset, the committed JSONL files and the built demo model."""

import json
import random
import re
from pathlib import Path

import pytest

from workbench.models import demo, demo_task


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def user_text(row: dict) -> str:
    return row["messages"][0]["content"]


def answer(row: dict) -> str:
    return row["messages"][-1]["content"]


def sentence_shape(row: dict) -> str:
    """The sentence of a question with its person and city replaced by placeholders."""
    sentence = user_text(row).removeprefix(demo_task.DEMO_QUESTION).strip()
    sentence = re.sub(rf"\b{re.escape(answer(row))}\b", "{city}", sentence)
    return re.sub(r"\b(" + "|".join(demo_task.NAMES) + r")\b", "{name}", sentence)


# ---------------------------------------------------------------- dataset


def test_rows_are_deterministic_and_depend_on_the_seed():
    assert demo_task.generate_demo_rows() == demo_task.generate_demo_rows(seed=0)
    assert demo_task.generate_demo_rows(seed=1) != demo_task.generate_demo_rows(seed=0)


def test_committed_files_equal_the_generated_rows():
    train_rows, heldout_rows = demo_task.generate_demo_rows()
    assert read_jsonl(demo_task.DEMO_TRAIN_FILE) == train_rows
    assert read_jsonl(demo_task.DEMO_HELDOUT_FILE) == heldout_rows


def test_files_live_next_to_the_module():
    assert demo_task.DEMO_DATA_DIR == Path(demo.__file__).resolve().parent / "demo_data"
    assert demo_task.DEMO_TRAIN_FILE.parent == demo_task.DEMO_HELDOUT_FILE.parent == demo_task.DEMO_DATA_DIR


def test_write_demo_dataset_writes_one_json_object_per_line(tmp_path, monkeypatch):
    committed = demo_task.DEMO_HELDOUT_FILE
    monkeypatch.setattr(demo_task, "DEMO_DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(demo_task, "DEMO_TRAIN_FILE", tmp_path / "data" / "train.jsonl")
    monkeypatch.setattr(demo_task, "DEMO_HELDOUT_FILE", tmp_path / "data" / "heldout.jsonl")
    demo_task.write_demo_dataset()
    lines = (tmp_path / "data" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(demo_task.generate_demo_rows()[0])
    assert all(line.startswith('{"messages": ') for line in lines)
    assert (tmp_path / "data" / "heldout.jsonl").read_bytes() == committed.read_bytes(), "committed file is current"


def test_sizes_and_conversation_shape():
    train_rows, heldout_rows = demo_task.generate_demo_rows()
    assert len(train_rows) >= 200
    assert 40 <= len(heldout_rows) <= 100
    for row in train_rows + heldout_rows:
        assert [message["role"] for message in row["messages"]] == ["user", "assistant"]
        assert user_text(row).startswith(demo_task.DEMO_QUESTION + " ")
        assert answer(row) in demo_task.CITIES
        assert re.search(rf"\b{answer(row)}\b", user_text(row)), "the answer is the city named in the question"
        assert any(re.search(rf"\b{name}\b", user_text(row)) for name in demo_task.NAMES), "a person is named too"


def test_heldout_questions_are_new_sentences_of_unseen_shapes():
    train_rows, heldout_rows = demo_task.generate_demo_rows()
    train_prompts = {user_text(row) for row in train_rows}
    assert not train_prompts & {user_text(row) for row in heldout_rows}
    assert len({user_text(row) for row in heldout_rows}) == len(heldout_rows), "no duplicate held-out questions"
    assert {sentence_shape(row) for row in train_rows} == set(demo_task.TRAIN_TEMPLATES)
    assert {sentence_shape(row) for row in heldout_rows} == set(demo_task.HELDOUT_TEMPLATES)
    assert not set(demo_task.TRAIN_TEMPLATES) & set(demo_task.HELDOUT_TEMPLATES)


def test_every_city_is_asked_about_in_both_splits():
    train_rows, heldout_rows = demo_task.generate_demo_rows()
    assert {answer(row) for row in train_rows} == set(demo_task.CITIES)
    assert {answer(row) for row in heldout_rows} == set(demo_task.CITIES)


def test_pretraining_text_never_uses_the_question_format():
    documents = demo._pretraining_documents(random.Random(0), 500)
    assert len(documents) == 500
    assert not any(demo_task.DEMO_QUESTION in text or "<|" in text for text in documents)
    held_out_sentence = demo_task.HELDOUT_TEMPLATES[0].split("{")[0].strip()
    assert any(held_out_sentence in text for text in documents), "the base model has read every kind of sentence"


def test_recipe_has_every_setting_the_trainer_needs():
    assert set(demo_task.DEMO_SFT_RECIPE) == {
        "method", "lora_r", "lora_alpha", "lora_dropout", "target_modules", "learning_rate", "num_train_epochs",
        "per_device_train_batch_size", "max_length", "lr_scheduler_type", "warmup_ratio", "assistant_only_loss",
    }  # fmt: skip
    assert demo_task.DEMO_SFT_RECIPE["method"] == "lora"
    assert demo_task.DEMO_SFT_RECIPE["assistant_only_loss"] is True
    assert 0 <= demo_task.DEMO_SFT_RECIPE["warmup_ratio"] < 1
    assert demo_task.DEMO_MAX_NEW_TOKENS >= 2


# ---------------------------------------------------------------- model


@pytest.fixture(scope="module")
def built(demo_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(demo_model_dir), AutoTokenizer.from_pretrained(demo_model_dir)


def test_build_leaves_only_the_finished_folder(demo_model_dir):
    assert {path.name for path in demo_model_dir.iterdir()} >= {
        "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
    }  # fmt: skip
    assert [path.name for path in demo_model_dir.parent.iterdir()] == [demo_model_dir.name], "no staging folders left"


def test_model_loads_with_auto_classes_as_a_small_llama(built):
    model, tokenizer = built
    assert model.config.model_type == "llama"
    assert model.config.vocab_size == len(tokenizer)
    assert sum(parameter.numel() for parameter in model.parameters()) < 1_000_000
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|pad|>"
    assert tokenizer.decode(tokenizer("Zoe flew to Porto.")["input_ids"]) == "Zoe flew to Porto."


def test_chat_template_renders_chatml_with_generation_markers(built):
    _, tokenizer = built
    assert "{% generation %}" in tokenizer.chat_template and "{% endgeneration %}" in tokenizer.chat_template
    row = demo_task.generate_demo_rows()[1][0]
    text = tokenizer.apply_chat_template(row["messages"], tokenize=False)
    assert text == f"<|im_start|>user\n{user_text(row)}<|im_end|>\n<|im_start|>assistant\n{answer(row)}<|im_end|>\n"
    prompt = tokenizer.apply_chat_template(row["messages"][:1], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")


def test_assistant_tokens_mask_covers_exactly_the_answer(built):
    _, tokenizer = built
    row = demo_task.generate_demo_rows()[0][0]
    encoded = tokenizer.apply_chat_template(
        row["messages"], tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    mask = encoded["assistant_masks"]
    assert len(mask) == len(encoded["input_ids"]) and 0 < sum(mask) < len(mask)
    marked = [token for token, flag in zip(encoded["input_ids"], mask, strict=True) if flag]
    assert tokenizer.decode(marked) == answer(row) + "<|im_end|>"


def test_base_model_does_not_answer_the_demo_questions(built):
    from workbench.evaluation.held_out import score_answers
    from workbench.models.rendering import rendering_for

    model, tokenizer = built
    result = score_answers(
        model, tokenizer, rendering_for(tokenizer), demo_task.generate_demo_rows()[1], demo_task.DEMO_MAX_NEW_TOKENS
    )
    assert result.n == len(demo_task.generate_demo_rows()[1])
    assert result.exact_match <= 0.10


def test_saving_replaces_an_old_folder_and_never_leaves_a_half_one(built, tmp_path, monkeypatch):
    model, tokenizer = built
    target = tmp_path / "demo"
    target.mkdir()
    (target / "stale.txt").write_text("from an older build")
    demo._save_atomically(model, tokenizer, target)
    assert not (target / "stale.txt").exists() and (target / "model.safetensors").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["demo"]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tokenizer, "save_pretrained", interrupted)
    with pytest.raises(KeyboardInterrupt):
        demo._save_atomically(model, tokenizer, tmp_path / "other")
    assert [path.name for path in tmp_path.iterdir()] == ["demo"]
