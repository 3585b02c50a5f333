"""Tests for workbench.runner with real processes: queueing, process groups, cancel, and surviving a killed runner."""

import os
import signal
import subprocess
import sys

from conftest import start_runner, stop_process, wait_for

from workbench import jobs, paths, presets, runs
from workbench.demo import DEMO_TRAIN_FILE
from workbench.runner import Runner, process_start_time


def short_config(**overrides):
    """A quick demo run without the held-out scoring (the data is given as a plain file)."""
    return presets.demo_config(**{"dataset": str(DEMO_TRAIN_FILE), "num_train_epochs": 0.5, **overrides})


def finished(run_id):
    job = jobs.get_job(run_id)
    return job if not job.active else None


def test_queued_jobs_run_one_at_a_time_in_their_own_process_group(runner_process):
    first, second = jobs.submit(short_config()), jobs.submit(short_config())
    running = wait_for(lambda: jobs.get_job(first.run_id).pid, what="the first job to start")
    assert os.getpgid(running) == running, "each training process leads its own process group"
    assert jobs.get_job(second.run_id).state == "queued"
    assert jobs.queue_position(second.run_id) == 1
    for job in (first, second):
        assert wait_for(lambda job=job: finished(job.run_id), timeout=180).state == "succeeded"
    assert jobs.get_job(first.run_id).finished_at <= jobs.get_job(second.run_id).started_at
    run = runs.get_run(first.run_id)
    assert (run.adapter_dir / "adapter_model.safetensors").is_file()
    assert runs.read_progress(run.path).fraction == 1.0


def test_cancel_stops_at_the_next_step_and_keeps_the_adapter(runner_process):
    job = jobs.submit(short_config(num_train_epochs=50))
    run = runs.get_run(job.run_id)
    wait_for(lambda: runs.read_progress(run.path).step >= 2, timeout=120, what="training steps")
    jobs.request_cancel(job.run_id)
    ended = wait_for(lambda: finished(job.run_id), timeout=60, what="the cancel")
    assert ended.state == "cancelled"
    status = runs.read_status(run.path)
    assert status["state"] == "cancelled" and "Cancelled at step" in status["message"]
    assert (run.adapter_dir / "adapter_model.safetensors").is_file()
    assert jobs.request_cancel(job.run_id).state == "cancelled", "cancelling again changes nothing"


def test_a_killed_runner_is_replaced_and_the_job_is_reattached_not_duplicated(demo_home):
    job = jobs.submit(short_config(num_train_epochs=6))
    first_runner = start_runner(demo_home)
    try:
        pid = wait_for(lambda: jobs.get_job(job.run_id).pid, what="the job to start")
        first_runner.send_signal(signal.SIGKILL)
        first_runner.wait(10)
        assert process_start_time(pid) is not None, "the training process outlives its runner"
        second_runner = start_runner(demo_home)
        ended = wait_for(lambda: finished(job.run_id), timeout=180, what="the re-attached job")
        assert ended.state == "succeeded" and ended.pid == pid
        assert "Re-attached" in (demo_home / "runner-test.log").read_text()
    finally:
        stop_process(first_runner)
        stop_process(second_runner)


def test_reconcile_marks_a_vanished_process_interrupted_and_requeues_an_unstarted_claim(demo_home):
    lost, unstarted = jobs.submit(short_config()), jobs.submit(short_config())
    jobs.claim_next()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    jobs.mark_running(lost.run_id, int(gone.stdout), "0")
    jobs.claim_next()
    Runner().reconcile()
    assert jobs.get_job(lost.run_id).state == "interrupted"
    assert runs.read_status(paths.runs_dir() / lost.run_id)["state"] == "interrupted"
    assert jobs.get_job(unstarted.run_id).state == "queued"


def test_only_one_runner_works_on_a_data_folder(runner_process, demo_home):
    wait_for(lambda: "working on" in (demo_home / "runner-test.log").read_text(), what="the first runner")
    second = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "runner"],
        env={**os.environ, "WORKBENCH_HOME": str(demo_home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Another runner already works" in second.stdout
