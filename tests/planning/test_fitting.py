"""Tests for workbench.planning.fitting: presets fitted to real datasets (the demo recipe's max length and answer
length are recomputed from the data, with a sentence for each change), and the pilot that went from 0% to 0% on the
identity dataset: now fitted by the Balanced preset, it trains to a held-out loss far below the untrained model's."""

import dataclasses

import pytest
from conftest import REAL_DATASETS, run_training

from workbench.models.device import Device
from workbench.planning import fitting, preflight, presets, recipe
from workbench.planning.model_facts import model_facts
from workbench.runs import directory


CPU = Device(cuda=False, name="CPU (2 cores)", free_gb=16.0)
IDENTITY = REAL_DATASETS / "llamafactory_identity.json"


def fitted(dataset, name: str = "Balanced", device: Device = CPU, **values):
    base = presets.demo_config(**{"dataset": str(dataset), "run_name": "", **values})
    lengths = preflight.dataset_lengths(base.model, base.dataset)
    return base, lengths, fitting.fit_to_data(name, base, lengths, device)


@pytest.mark.parametrize("file", ["llamafactory_identity.json", "llamafactory_alpaca_en_demo.json"])
def test_a_preset_recomputes_the_demo_recipes_lengths_from_the_data_and_says_why(demo_home, file):
    base, lengths, result = fitted(REAL_DATASETS / file)
    config = result.config
    cut = sum(length > config.max_length for length in lengths.train) / len(lengths.train)
    assert cut <= 0.05 < sum(length > base.max_length for length in lengths.train) / len(lengths.train)
    answers_cut = sum(length > config.max_new_tokens_eval for length in lengths.answers) / len(lengths.answers)
    assert answers_cut <= 0.05 or config.max_new_tokens_eval == recipe.MAX_ANSWER_TOKENS  # alpaca: 12% past 1,024
    assert config.learning_rate == recipe.usual_learning_rate("lora", model_facts("demo").n_params) == 2e-3
    said = "\n".join(result.changes)
    assert f"Max length (tokens): 64 → {config.max_length}, 95% of your conversations fit" in said
    assert f"Answer length for scoring: 8 → {config.max_new_tokens_eval}" in said
    assert "Learning rate: 0.005 → 0.002" in said and "Epochs: 10 →" in said
    checked = preflight.estimate(
        config, model_facts("demo"), lengths.train, CPU, 100.0, 0.0, lengths.evaluation, lengths.answers
    )
    assert checked.verdict == "green", checked.reasons


def test_the_fitted_max_length_stays_within_the_memory_free(demo_home):
    tiny = Device(cuda=False, name="CPU (2 cores)", free_gb=1.4)  # the process alone takes 1 GB
    _, _lengths, roomy = fitted(REAL_DATASETS / "llamafactory_glaive_toolcall_en_demo.json")
    _, _, tight = fitted(REAL_DATASETS / "llamafactory_glaive_toolcall_en_demo.json", device=tiny)
    assert tight.config.max_length < roomy.config.max_length
    assert any("as long as the free memory allows" in change for change in tight.changes)


def test_nothing_is_said_about_values_the_preset_left_as_they_were(demo_home):
    _base, lengths, first = fitted(IDENTITY)
    again = fitting.fit_to_data("Balanced", first.config, lengths, CPU)
    assert again.config == first.config and again.changes == []


def test_the_identity_pilot_through_the_balanced_preset_learns(demo_home):
    _, _, result = fitted(IDENTITY, run_name="identity-pilot")
    config = dataclasses.replace(result.config, early_stopping_patience=0)  # watch the whole curve
    run = run_training(config)
    assert directory.read_status(run.path).state == "succeeded", directory.tail_log(run.path)
    held_out = [(row["step"], row["eval_loss"]) for row in directory.read_metrics(run.path) if "eval_loss" in row]
    (first_step, untrained), *_, (_, last) = held_out
    print(
        f"\nidentity, Balanced: held-out loss {untrained:.2f} (untrained) -> {last:.2f}, lr {config.learning_rate:g}"
    )
    assert first_step == 0 and last < 0.5 * untrained, held_out


def test_gradient_checkpointing_is_turned_on_only_when_the_run_would_not_fit_without_it():
    from model_shapes import A100, LLAMA32_3B, RTX_4090

    from workbench.planning.model_facts import facts_from_config

    facts = facts_from_config(LLAMA32_3B)
    shape = recipe.DataShape(lengths=[300] * 900 + [1000] * 100, n_params=facts.n_params)
    base = presets.demo_config(model="/models/llama-3b", method="qlora", run_name="")
    roomy = fitting.fit_preset("Balanced", base, shape, A100, facts)
    assert roomy.config.gradient_checkpointing is False
    assert "Gradient checkpointing" not in "\n".join(roomy.changes), "left as it was: off"
    tight = fitting.fit_preset("Balanced", base, shape, dataclasses.replace(RTX_4090, free_gb=5.0), facts)
    assert tight.config.gradient_checkpointing is True
    assert "Gradient checkpointing: off → on, the run needs it to fit in the memory free." in tight.changes
    assert fitting.fit_preset("Balanced", base, shape, CPU, facts).config.gradient_checkpointing is False
