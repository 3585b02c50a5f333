"""Fault tests: each fault is really caused (a process killed, a runner killed, a web server killed) and the job table
and run directory must end up consistent, with nothing lost. CUDA out-of-memory and a full disk cannot happen on
demand on this CPU-only machine, so those two are raised through WORKBENCH_FAULT (workbench/faults.py) and the real
handling runs from there."""

import json
import os
import signal

from conftest import start_runner, stop_process, wait_for

from workbench.jobs import control, processes, queue
from workbench.models.demo_task import DEMO_TRAIN_FILE
from workbench.planning.presets import demo_config
from workbench.runs import directory, record


def quick(**overrides):
    return demo_config(dataset=str(DEMO_TRAIN_FILE), **{"num_train_epochs": 0.5, **overrides})


def ended(run_id):
    job = queue.get_job(run_id)
    return job if not job.active else None


def test_killed_training_process_is_failed_with_the_reason_then_resumes_to_completion(runner_process):
    job = control.submit(quick(num_train_epochs=6, save_steps=4))
    run = directory.get_run(job.run_id)
    wait_for(lambda: directory.read_status(run.path).last_checkpoint, timeout=180, what="a first checkpoint")
    os.killpg(queue.get_job(job.run_id).pid, signal.SIGKILL)  # what the kernel's OOM killer does
    failed = wait_for(lambda: ended(job.run_id), timeout=60, what="the failure to be recorded")
    status = directory.read_status(run.path)
    assert failed.state == "failed" and status.failure == "host_oom"
    assert "signal 9" in status.message
    resumed = control.resume(job.run_id)
    assert resumed.state == "queued" and resumed.attempt == 2
    done = wait_for(lambda: ended(job.run_id), timeout=240, what="the resumed run")
    assert done.state == "succeeded", directory.tail_log(run.path)
    assert "Resuming from checkpoint-" in (run.path / "train.log").read_text()
    first_steps = [record["step"] for record in directory.read_metrics(run.path) if "loss" in record]
    assert first_steps.count(1) == 1, "the resumed run continued from its checkpoint instead of starting over"


def test_cuda_oom_is_retried_with_a_smaller_micro_batch_and_recorded(runner_process, monkeypatch):
    monkeypatch.setenv("WORKBENCH_FAULT", "cuda_oom:step=2,batch_over=4")
    stop_process(runner_process)
    process = start_runner(runner_process.home)
    try:
        job = control.submit(quick(per_device_train_batch_size=16))
        done = wait_for(lambda: ended(job.run_id), timeout=300, what="the retried run")
    finally:
        stop_process(process)
    run = directory.get_run(job.run_id)
    assert done.state == "succeeded", directory.tail_log(run.path)
    changes = [retry["change"] for retry in record.read_record(run.path)["retries"]]
    assert changes == ["micro-batch 8 with 2x gradient accumulation", "micro-batch 4 with 4x gradient accumulation"]
    assert run.config.per_device_train_batch_size == 4 and run.config.gradient_accumulation_steps == 4


def test_disk_full_fails_with_a_plain_sentence(runner_process, monkeypatch):
    monkeypatch.setenv("WORKBENCH_FAULT", "disk_full:step=2")
    stop_process(runner_process)
    process = start_runner(runner_process.home)
    try:
        job = control.submit(quick())
        done = wait_for(lambda: ended(job.run_id), timeout=300, what="the failed run")
    finally:
        stop_process(process)
    status = directory.read_status(directory.get_run(job.run_id).path)
    assert done.state == "failed" and status.failure == "disk_full"
    assert status.message.startswith("The disk is full")


def test_runner_restart_after_everything_leaves_no_row_running_and_the_lost_run_resumes(demo_home):
    lost = control.submit(quick(num_train_epochs=3, save_steps=4))
    queued = control.submit(quick())
    process = start_runner(demo_home)
    pid = wait_for(lambda: queue.get_job(lost.run_id).pid, what="the job to start")
    lost_dir = directory.get_run(lost.run_id).path
    wait_for(lambda: directory.read_status(lost_dir).last_checkpoint, timeout=180, what="a first checkpoint")
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: not processes.group_members(pid), timeout=30, what="the training group to vanish")
    assert queue.get_job(lost.run_id).state == "running", "nobody is watching: the row is stale for now"
    restarted = start_runner(demo_home)
    try:
        assert wait_for(lambda: ended(lost.run_id), timeout=60).state == "interrupted"
        assert wait_for(lambda: ended(queued.run_id), timeout=240).state == "succeeded"
        assert not queue.list_jobs(("starting", "running"))
        assert json.loads((lost_dir / "status.json").read_text())["state"] == "interrupted"
        control.resume(lost.run_id)
        assert wait_for(lambda: ended(lost.run_id), timeout=240).state == "succeeded", directory.tail_log(lost_dir)
    finally:
        stop_process(restarted)
    assert "Resuming from checkpoint-" in (lost_dir / "train.log").read_text()
