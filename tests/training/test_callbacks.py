"""Tests for workbench.callbacks: progress and metrics reach the run directory, and a stop request stops and saves."""

import threading

from transformers import TrainerControl, TrainerState, TrainingArguments

from workbench.config import RunConfig
from workbench.runs import directory
from workbench.training.callbacks import RunDirectoryCallback


def test_logs_become_metrics_lines_and_progress_becomes_status(home, tmp_path):
    run = directory.create_run(RunConfig())
    callback = RunDirectoryCallback(run.path, threading.Event(), min_interval_s=0)
    args = TrainingArguments(output_dir=str(tmp_path), num_train_epochs=2, report_to="none", use_cpu=True)
    state = TrainerState(global_step=3, max_steps=10, epoch=0.6)
    callback.on_step_end(args, state, TrainerControl())
    callback.on_log(args, state, TrainerControl(), logs={"loss": 1.25, "note": "not a number"})
    assert directory.read_status(run.path).step == 3 and directory.read_status(run.path).max_steps == 10
    [metric] = directory.read_metrics(run.path)
    assert metric["step"] == 3 and metric["loss"] == 1.25 and "note" not in metric


def test_a_stop_request_ends_training_at_this_step_with_a_checkpoint(home, tmp_path):
    run = directory.create_run(RunConfig())
    stop = threading.Event()
    callback = RunDirectoryCallback(run.path, stop)
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True)
    control = TrainerControl()
    callback.on_step_end(args, TrainerState(global_step=1, max_steps=10), control)
    assert not control.should_training_stop
    stop.set()
    callback.on_step_end(args, TrainerState(global_step=2, max_steps=10), control)
    assert control.should_training_stop and control.should_save
