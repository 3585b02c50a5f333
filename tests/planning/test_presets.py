"""Tests for workbench.planning.presets: the OpenAI-style epoch rule, the three presets and the basic/advanced
field split."""

import dataclasses

import pytest

from workbench import schedule
from workbench.config import METHODS, RunConfig
from workbench.errors import UserError
from workbench.planning import presets, recipe
from workbench.planning.presets import (
    ADVANCED_FIELDS,
    BASIC_FIELDS,
    PRESETS,
    auto_epochs,
    preset_config,
    preset_description,
)


SIZES = [1, 7, 20, 49, 50, 60, 100, 333, 1_000, 5_000, 10_000, 30_000, 100_000, 1_000_000]
BASE = RunConfig(run_name="pilot", model="/models/tiny", dataset="/data/train.jsonl", method="qlora")


def total_steps(config: RunConfig, n_rows: int) -> int:
    """Optimizer steps the run will take, after the held-out rows are split off (the trainer's own rule)."""
    return schedule.plan(config, n_rows, separate_eval=False).total_steps


@pytest.mark.parametrize(
    ("n_rows", "epochs"),
    [(1, 25), (10, 10), (20, 5), (34, 3), (100, 3), (1_000, 3), (8_333, 3), (10_000, 2), (25_000, 1), (100_000, 1)],
)
def test_epochs_follow_openais_dataset_size_rule(n_rows, epochs):
    # openai-cookbook Chat_finetuning_data_prep.ipynb: 3 epochs, scaled so that epochs * rows lands in
    # [100, 25,000], clamped to 1..25.
    assert auto_epochs(n_rows) == epochs


def test_the_balanced_preset_uses_openais_rule_unless_it_gives_too_few_steps():
    config = preset_config("Balanced", dataclasses.replace(BASE, eval_dataset="/data/eval.jsonl"), 100, cuda=True)
    assert config.num_train_epochs == 3.0 and config.max_steps == 0
    assert preset_config("Balanced", BASE, 100_000, cuda=True).num_train_epochs == 1.0
    few = preset_config("Balanced", dataclasses.replace(BASE, eval_dataset="/data/eval.jsonl"), 20, cuda=True)
    # OpenAI's rule gives 20 rows 5 epochs (100 examples seen), only 15 steps of 8: raised to 20 steps
    assert few.num_train_epochs == 7.0 and total_steps(few, 20) >= recipe.MIN_STEPS


@pytest.mark.parametrize("cuda", [True, False])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_gives_a_valid_config_for_every_size(name, method, cuda):
    for n_rows in SIZES:
        config = preset_config(name, dataclasses.replace(BASE, method=method), n_rows, cuda)
        assert config.validate() == [], (name, method, n_rows)


@pytest.mark.parametrize("n_rows", SIZES)
def test_quick_pilot_has_the_fewest_steps_and_thorough_the_most(n_rows):
    steps = [total_steps(preset_config(name, BASE, n_rows, cuda=True), n_rows) for name in PRESETS]
    assert steps[0] <= steps[1] <= steps[2]
    assert steps[0] < steps[2]
    assert steps[0] <= 100


def test_the_preset_keeps_the_users_model_data_method_and_data_format():
    base = dataclasses.replace(BASE, method="freeze", max_length=2048, packing=True, seed=7, target_modules="q_proj")
    config = preset_config("Thorough", base, 5_000, cuda=False)
    kept = ("run_name", "model", "dataset", "method", "max_length", "packing", "seed", "target_modules")
    assert all(getattr(config, name) == getattr(base, name) for name in kept)
    assert base.lora_r == 16 and config.lora_r == 32  # a copy: the base is left alone


@pytest.mark.parametrize(("method", "rate"), [("qlora", 2e-4), ("lora", 2e-4), ("full", 1e-5), ("freeze", 5e-5)])
def test_learning_rate_follows_the_method(method, rate):
    for name in PRESETS:
        assert preset_config(name, dataclasses.replace(BASE, method=method), 500, cuda=True).learning_rate == rate


def test_lora_rank_grows_and_alpha_is_twice_the_rank():
    configs = [preset_config(name, BASE, 2_000, cuda=True) for name in PRESETS]
    ranks = [config.lora_r for config in configs]
    assert ranks == sorted(ranks) and len(set(ranks)) == 3
    assert all(config.lora_alpha == 2 * config.lora_r for config in configs)


def test_effective_batch_is_about_a_fifth_of_a_percent_of_the_rows():
    def effective(n_rows: int, cuda: bool = True) -> int:
        config = preset_config("Balanced", BASE, n_rows, cuda)
        return config.per_device_train_batch_size * config.gradient_accumulation_steps

    assert effective(100) == 8 and effective(10_000) == 16 and effective(1_000_000) == 32
    assert preset_config("Balanced", BASE, 10_000, cuda=True).per_device_train_batch_size == 4
    assert preset_config("Balanced", BASE, 10_000, cuda=False).per_device_train_batch_size == 8
    assert effective(5) <= 8


def test_held_out_share_and_early_stopping_depend_on_the_data():
    big = preset_config("Balanced", BASE, 5_000, cuda=True)
    assert big.validation_fraction == 0.1 and big.early_stopping_patience == 3
    huge = preset_config("Balanced", BASE, 100_000, cuda=True)
    assert huge.validation_fraction * 100_000 == pytest.approx(1_000)  # at most 1,000 rows held out
    tiny = preset_config("Thorough", BASE, 20, cuda=True)
    assert tiny.validation_fraction == 0.0 and tiny.early_stopping_patience == 0  # nothing to stop on
    with_file = preset_config("Thorough", dataclasses.replace(BASE, eval_dataset="/data/eval.jsonl"), 20, True)
    assert with_file.validation_fraction == 0.0 and with_file.early_stopping_patience == 5
    assert preset_config("Quick pilot", BASE, 5_000, cuda=True).early_stopping_patience == 0


def test_a_version_with_its_own_validation_split_holds_nothing_more_out(home):
    from workbench.data import library, validation

    rows = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}
        for i in range(200)
    ]
    content = library.rows_to_jsonl(rows)
    original = library.create_dataset("chats.jsonl", content, validation.validate(content, "chats.jsonl"))
    split = library.save_version(original, rows[:180], "split", validation_rows=rows[180:])
    config = preset_config("Balanced", dataclasses.replace(BASE, dataset=str(split.path)), 180, cuda=True)
    assert config.validation_fraction == 0.0 and config.early_stopping_patience == 3


def test_checkpoints_fall_on_evaluations_and_evaluations_fit_the_run():
    for name in PRESETS:
        for n_rows in SIZES:
            config = preset_config(name, BASE, n_rows, cuda=True)
            assert config.save_steps % config.eval_steps == 0
            assert 1 <= config.eval_steps <= max(1, total_steps(config, n_rows))


def test_presets_leave_gradient_checkpointing_off_for_the_fit_to_turn_on_when_needed():
    assert preset_config("Balanced", BASE, 1_000, cuda=True).gradient_checkpointing is False
    assert preset_config("Balanced", BASE, 1_000, cuda=False).gradient_checkpointing is False


def test_every_preset_has_a_plain_description():
    for name in PRESETS:
        text = preset_description(name)
        assert text.endswith(".") and 40 < len(text) < 250
    with pytest.raises(UserError, match="Quick pilot, Balanced, Thorough"):
        preset_description("Turbo")
    with pytest.raises(UserError):
        preset_config("Turbo", BASE, 10, cuda=True)


def test_basic_and_advanced_fields_split_every_setting():
    every = [spec.name for spec in dataclasses.fields(RunConfig)]
    assert set(BASIC_FIELDS) | set(ADVANCED_FIELDS) == set(every)
    assert not set(BASIC_FIELDS) & set(ADVANCED_FIELDS)
    assert {"model", "dataset", "method"} <= set(BASIC_FIELDS)
    assert {"lora_alpha", "gradient_accumulation_steps", "warmup_ratio", "precision"} <= set(ADVANCED_FIELDS)


def test_demo_config_still_works():
    config = presets.demo_config(num_train_epochs=0.5)
    assert config.model == "demo" and config.dataset == "demo" and config.num_train_epochs == 0.5
    assert config.validate() == []
