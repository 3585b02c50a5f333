"""Tests for workbench.training.distributed: a data-parallel run on two CPU processes (``torchrun``, the gloo
backend) learns as one process does with the same global batch, and only its main process writes the run
directory."""

import subprocess

import pytest

from workbench.jobs.backend import training_command
from workbench.planning import presets
from workbench.runs import checkpoints, directory, held_out_scores, record
from workbench.training import distributed


def train(config, processes: int):
    run = directory.create_run(config)
    with open(run.path / directory.LOG_FILE, "ab") as log:
        command = training_command(run.path, processes)
        subprocess.run(command, stdout=log, stderr=log, timeout=600, check=False, env=_threads())
    assert directory.read_status(run.path).state == "succeeded", directory.tail_log(run.path)
    return run


def _threads() -> dict[str, str]:
    import os

    return {**os.environ, "OMP_NUM_THREADS": "1"}


def losses(run) -> list[tuple[int, float]]:
    return [(line["step"], line["loss"]) for line in directory.read_metrics(run.path) if "loss" in line]


def test_two_processes_learn_as_one_with_the_same_global_batch_and_write_once(demo_home):
    settings = {"max_steps": 8, "lora_dropout": 0.0, "eval_steps": 4, "save_steps": 4, "logging_steps": 1}
    one = train(presets.demo_config(per_device_train_batch_size=16, run_name="one", **settings), 1)
    two = train(presets.demo_config(per_device_train_batch_size=8, run_name="two", **settings), 2)
    alone, shared = losses(one), losses(two)
    assert [step for step, _ in shared] == list(range(1, 9)), "one metrics line per step: written by rank 0 only"
    assert [loss for _, loss in shared] == pytest.approx([loss for _, loss in alone], rel=2e-3)
    assert shared[-1][1] < shared[0][1]
    log = directory.tail_log(two.path)
    assert log.count("Run finished: succeeded") == 1 and log.count("Chat template:") == 1
    assert (two.adapter_dir / "adapter_config.json").is_file() and record.read_record(two.path)["state"] == "succeeded"
    saved = sorted((two.path / directory.CHECKPOINTS_DIR).glob("checkpoint-*"))
    assert [path.name for path in saved] == ["checkpoint-4", "checkpoint-8"]
    assert all(checkpoints.is_sealed(path, two.run_id) for path in saved), "sealed once, by rank 0, for resuming"


def test_rank_and_world_size_come_from_torchrun(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (1, 2, False)
    monkeypatch.setenv("RANK", "garbage")
    assert distributed.rank() == 0


def test_a_two_process_run_stops_at_one_step_on_cancel_and_resumes_from_its_checkpoint(demo_home):
    import json
    import os
    import signal

    from conftest import wait_for

    from workbench.jobs import processes

    config = presets.demo_config(max_steps=80, lora_dropout=0.0, save_steps=1000, eval_steps=1000, run_name="stop")
    run = directory.create_run(config)
    log = run.path / directory.LOG_FILE
    process = processes.spawn_detached(training_command(run.path, 2), log, {"OMP_NUM_THREADS": "1"})
    wait_for(lambda: directory.read_status(run.path).step >= 3, timeout=300, what="a few steps")
    os.killpg(process.pid, signal.SIGTERM)  # as the runner cancels: the whole process group
    process.wait(timeout=120)
    status = directory.read_status(run.path)
    assert status.state == "cancelled", directory.tail_log(run.path)
    checkpoint = checkpoints.latest_checkpoint(run.path)
    assert checkpoint is not None and checkpoints.is_sealed(checkpoint, run.run_id)
    stopped_at = int(checkpoint.name.removeprefix("checkpoint-"))
    assert 3 <= stopped_at < 80 and directory.tail_log(run.path).count("Run finished: cancelled") == 1

    (run.path / directory.RESUME_FILE).write_text(json.dumps({"checkpoint": checkpoint.name}), encoding="utf-8")
    resumed = processes.spawn_detached(training_command(run.path, 2), log, {"OMP_NUM_THREADS": "1"})
    assert resumed.wait(timeout=300) == 0, directory.tail_log(run.path)
    assert directory.read_status(run.path).state == "succeeded" and directory.read_status(run.path).step == 80
    steps = [line["step"] for line in directory.read_metrics(run.path) if "loss" in line]
    assert steps.count(stopped_at + 1) == 1 and steps[-1] == 80, "the resumed run went on from its checkpoint"
    assert not (run.path / directory.RESUME_FILE).exists()


def test_full_fine_tuning_on_two_processes_is_sharded_and_learns_as_one_process(demo_home):
    """FSDP2 over two CPU processes: the only stand-in is ``tests/fsdp_on_cpu.py``, which lets accelerate shard on
    a CPU (it shards only on GPUs); the saved model is one whole safetensors model, scored after training."""
    import sys
    from pathlib import Path

    settings = {"method": "full", "max_steps": 8, "eval_steps": 4, "save_steps": 4, "logging_steps": 1}
    settings |= {"learning_rate": 1e-3}
    one = train(presets.demo_config(per_device_train_batch_size=16, run_name="one", **settings), 1)
    two = directory.create_run(presets.demo_config(per_device_train_batch_size=8, gpus=2, run_name="two", **settings))
    launcher = Path(__file__).resolve().parents[1] / "fsdp_on_cpu.py"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(launcher)]
    with open(two.path / directory.LOG_FILE, "ab") as log:
        subprocess.run([*command, str(two.path)], stdout=log, stderr=log, timeout=600, check=False, env=_threads())
    assert directory.read_status(two.path).state == "succeeded", directory.tail_log(two.path)
    assert [loss for _, loss in losses(two)] == pytest.approx([loss for _, loss in losses(one)], rel=1e-4)
    assert (two.adapter_dir / "model.safetensors").is_file(), "one whole model, gathered from the shards"
    assert directory.read_status(two.path).last_checkpoint == "checkpoint-8"
    assert held_out_scores.read_scores(two.path).tuned is not None, "scored from the saved model"
    assert "Sharding the model over 2 processes (FSDP2)" in directory.tail_log(two.path)
