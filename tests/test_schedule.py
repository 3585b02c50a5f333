"""Tests for workbench.schedule: the held-out split, the steps and the cadence, and that the pre-flight check's
numbers are the numbers the trainer then uses, for many dataset sizes and shares (1, 2 and 42 rows included)."""

import json

import pytest
from conftest import run_training
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import schedule
from workbench.config import RunConfig
from workbench.models.device import Device
from workbench.planning import presets
from workbench.planning.model_facts import facts_from_config
from workbench.planning.preflight import estimate
from workbench.runs import directory, record
from workbench.training import sft


CPU = Device(cuda=False, name="CPU (2 cores)", total_gb=None, free_gb=16.0)
TINY = facts_from_config({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 768})


@pytest.mark.parametrize(
    ("rows", "fraction", "held"),
    [(1, 0.1, 0), (2, 0.1, 1), (2, 0.5, 1), (42, 0.1, 5), (50, 0.05, 3), (100, 0.07, 7), (10, 0.0, 0), (3, 0.5, 2)],
)
def test_held_out_rows_round_up_but_always_leave_a_row_to_train_on(rows, fraction, held):
    assert schedule.held_out_count(rows, fraction) == held


def test_the_split_is_seeded_keeps_the_order_and_has_the_planned_size():
    rows = list(range(42))
    train, held = schedule.split_rows(rows, 0.1, seed=3)
    assert len(held) == 5 and train == sorted(train) and held == sorted(held) and set(train) | set(held) == set(rows)
    assert schedule.split_rows(rows, 0.1, seed=3) == (train, held)
    assert schedule.split_rows(rows, 0.1, seed=4)[1] != held


def test_early_stopping_keeps_checkpoints_on_evaluation_steps():
    plan = schedule.plan(RunConfig(max_steps=100, eval_steps=15, early_stopping_patience=2), 1000, separate_eval=True)
    assert plan.save_every % plan.eval_every == 0, "the trainer can only keep the best checkpoint on an eval step"


def test_checkpoints_fall_on_evaluation_steps_unless_the_user_chose_both_cadences():
    fitted = schedule.plan(RunConfig(max_steps=160), 1000, separate_eval=True)
    assert (fitted.eval_every, fitted.save_every) == (16, 32), "each checkpoint has a held-out loss at its step"
    chosen = schedule.plan(RunConfig(max_steps=160, eval_steps=16, save_steps=40), 1000, separate_eval=True)
    assert chosen.save_every == 40


@pytest.fixture(scope="module")
def hf_trainer(demo_model_dir, tmp_path_factory):
    """A real transformers Trainer, to ask it how many optimizer steps a dataloader of a given length makes."""
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    args = TrainingArguments(output_dir=str(tmp_path_factory.mktemp("hf")), use_cpu=True, report_to="none")
    return Trainer(model=AutoModelForCausalLM.from_pretrained(demo_model_dir), args=args)


def trainer_numbers(config: RunConfig, n_rows: int, trainer, tmp_path) -> tuple[int, int, int, int]:
    """(held-out rows, optimizer steps, eval cadence, save cadence) as the training process arrives at them: its own
    split and SFTConfig, and the Trainer's step arithmetic on a dataloader over the training rows."""
    from torch.utils.data import DataLoader

    train, held = schedule.split_rows(list(range(n_rows)), config.validation_fraction, config.seed)
    args = sft.sft_config(config, tmp_path, schedule.plan(config, n_rows, False), bool(held), cuda=False)
    loader = DataLoader(train, batch_size=config.per_device_train_batch_size)
    *_, max_steps = trainer.set_initial_training_values(args, loader)
    return len(held), max_steps, args.eval_steps, args.save_steps


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.one_of(st.sampled_from([1, 2, 42]), st.integers(1, 400)),
    fraction=st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.5]) | st.floats(0.0, 0.5),
    batch=st.integers(1, 16),
    accumulation=st.integers(1, 4),
    epochs=st.sampled_from([0.5, 1.0, 3.0, 10.0]),
    max_steps=st.sampled_from([0, 0, 7]),
)
def test_pre_flight_numbers_are_what_the_trainer_uses(
    hf_trainer, tmp_path_factory, n_rows, fraction, batch, accumulation, epochs, max_steps
):
    config = RunConfig(
        model="/models/tiny",
        dataset="/data/train.jsonl",
        validation_fraction=fraction,
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=accumulation,
        num_train_epochs=epochs,
        max_steps=max_steps,
        max_length=64,
    )
    checked = estimate(config, TINY, [20] * n_rows, CPU, free_disk_gb=100.0)
    planned = (checked.plan.held_out_rows, checked.steps, checked.plan.eval_every, checked.plan.save_every)
    assert planned == trainer_numbers(config, n_rows, hf_trainer, tmp_path_factory.mktemp("run"))
    assert checked.plan.train_rows >= 1


@pytest.mark.parametrize(("n_rows", "train_rows"), [(1, 1), (42, 37)])
def test_a_real_run_holds_out_and_steps_as_pre_flight_said(demo_home, tmp_path, n_rows, train_rows):
    rows = [json.loads(line) for line in _demo_lines()[:n_rows]]
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    config = presets.demo_config(
        dataset=str(data), validation_fraction=0.1, num_train_epochs=1, per_device_train_batch_size=4
    )
    checked = estimate(config, TINY, [20] * n_rows, CPU, free_disk_gb=100.0)
    run = run_training(config)
    status = directory.read_status(run.path)
    assert status.state == "succeeded", directory.tail_log(run.path)
    assert status.max_steps == checked.steps
    assert record.read_record(run.path)["dataset"]["rows"] == checked.plan.train_rows == train_rows


def _demo_lines() -> list[str]:
    from workbench.models.demo_task import DEMO_TRAIN_FILE

    return DEMO_TRAIN_FILE.read_text(encoding="utf-8").splitlines()
