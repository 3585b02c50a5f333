"""Tests for workbench.planning.recipe: the rules a recipe is judged by (records cut, learning rate, steps, answer
length for scoring, too little data), each with its level and its one-click fix, and the values fitted from data."""

import dataclasses

import pytest
from model_shapes import CPU, LLAMA31_8B, PLENTY_OF_DISK, RTX_4090, config

from workbench import schedule
from workbench.planning import recipe
from workbench.planning.model_facts import facts_from_config
from workbench.planning.preflight import estimate
from workbench.planning.recipe import DataShape, fitted_answer_length, fitted_max_length, judge


EIGHT_B = facts_from_config(LLAMA31_8B)


def findings(values: dict, lengths: list[int], answers: list[int] | None = None, n_params: int = 8_000_000_000):
    run = config(**values)
    shape = DataShape(lengths, answers or [], 0, n_params)
    return run, judge(run, shape, schedule.plan(run, len(lengths), separate_eval=False))


def only(found: list[recipe.Finding], word: str) -> recipe.Finding:
    [finding] = [finding for finding in found if word in finding.sentence]
    return finding


def test_fitted_lengths_keep_95_percent_whole_in_steps_of_64_and_8():
    shape = DataShape([100] * 95 + [5000] * 5, answers=[12] * 95 + [400] * 5)
    assert fitted_max_length(shape) == 128 and fitted_answer_length(shape) == 16
    assert fitted_max_length(DataShape([10] * 20)) == 64, "never below 64"
    assert fitted_answer_length(DataShape([100], answers=[9000] * 20)) == recipe.MAX_ANSWER_TOKENS, "bounded"
    assert fitted_max_length(DataShape([3000] * 20, position_limit=2048)) == 2048, "never past the model's limit"


@pytest.mark.parametrize(("cut_share", "level"), [(0.03, None), (0.3, "amber"), (0.96, "red")])
def test_records_cut_by_the_max_length_are_amber_then_red_with_a_fix_that_keeps_95_percent(cut_share, level):
    cut = round(100 * cut_share)
    _run, found = findings({"max_length": 64}, [40] * (100 - cut) + [250] * cut)
    matching = [finding for finding in found if "longer than the max length" in finding.sentence]
    if level is None:
        assert matching == []
        return
    [finding] = matching
    assert finding.level == level and f"{cut}% of your conversations" in finding.sentence
    assert finding.fix.changes == {"max_length": fitted_max_length(DataShape([40] * (100 - cut) + [250] * cut))}
    assert finding.fix.changes["max_length"] >= 250 or cut_share < 0.05


@pytest.mark.parametrize(
    ("method", "rate", "n_params", "level"),
    [
        ("lora", 2e-4, 8e9, None),
        ("lora", 1.0, 8e9, "red"),  # got a green verdict before
        ("lora", 5e-3, 8e9, "amber"),
        ("lora", 5e-3, 5e6, None),  # the demo recipe: a tiny model takes a larger rate
        ("full", 5e-3, 8e9, "red"),  # an 8B full fine-tune kept the LoRA-sized rate before
        ("full", 1e-5, 8e9, None),
        ("qlora", 1e-8, 8e9, "amber"),
    ],
)
def test_a_learning_rate_far_outside_the_usual_range_for_the_method_is_flagged(method, rate, n_params, level):
    _run, found = findings({"method": method, "learning_rate": rate}, [100] * 500, n_params=int(n_params))
    matching = [finding for finding in found if "learning rate" in finding.sentence]
    assert [finding.level for finding in matching] == ([level] if level else [])
    if level:
        assert matching[0].fix.changes == {"learning_rate": recipe.LEARNING_RATES[method]}


def test_too_few_steps_is_amber_with_more_epochs_as_the_fix():
    run, found = findings({"num_train_epochs": 1.0, "per_device_train_batch_size": 8}, [100] * 60)
    finding = only(found, "optimizer steps")
    assert finding.level == "amber" and finding.fix.changes["num_train_epochs"] >= 3
    fixed = dataclasses.replace(run, **finding.fix.changes)
    assert schedule.plan(fixed, 60, separate_eval=False).total_steps >= recipe.MIN_STEPS


def test_an_answer_length_for_scoring_shorter_than_most_answers_is_amber_with_the_fitted_length():
    _run, found = findings({"max_new_tokens_eval": 8}, [100] * 500, answers=[40] * 90 + [4] * 10)
    finding = only(found, "reference answers")
    assert finding.level == "amber" and "90% of your reference answers" in finding.sentence
    assert finding.fix.changes == {"max_new_tokens_eval": 40}


def test_too_few_conversations_are_red_without_a_fix_but_more_data():
    finding = only(findings({}, [100] * 4)[1], "Only 4 conversations")
    assert finding.level == "red" and finding.fix is None and "Only 4 conversations" in finding.sentence


def test_the_preflight_verdict_takes_the_recipe_in_and_offers_its_fixes():
    lengths = [300] * 100
    cut = estimate(
        config(method="qlora", max_length=64), EIGHT_B, lengths, RTX_4090, PLENTY_OF_DISK, answer_lengths=[20] * 100
    )
    assert cut.verdict == "red" and any("longer than the max length of 64" in reason for reason in cut.reasons)
    [fix] = [fix for fix in cut.fixes if "max_length" in fix.changes]
    assert fix.changes == {"max_length": 320} and fix.peak_memory_gb > cut.peak_memory_gb, "raising it costs memory"
    fine = estimate(
        config(method="qlora", max_length=320), EIGHT_B, lengths, RTX_4090, PLENTY_OF_DISK, answer_lengths=[20] * 100
    )
    assert fine.verdict != "red" and not any("max length" in reason for reason in fine.reasons[3:])


def test_qlora_is_offered_to_a_run_too_big_for_the_memory_on_a_cpu_too():
    # bitsandbytes runs 4-bit training on the CPU (stack.md §5); the 8B LoRA run needs far more RAM than 16 GB
    result = estimate(config(method="lora", max_length=512), EIGHT_B, [500] * 200, CPU, PLENTY_OF_DISK)
    assert result.verdict == "red"
    [qlora] = [fix for fix in result.fixes if fix.label.startswith("Switch to 4-bit QLoRA")]
    assert qlora.peak_memory_gb < result.peak_memory_gb - 20 and "slower" in qlora.label
