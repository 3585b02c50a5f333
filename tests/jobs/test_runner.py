"""Tests for workbench.runner with real processes: queueing, process groups, cancel, and surviving a killed runner."""

import os
import shutil
import signal
import subprocess
import sys
import threading

from conftest import claim_next, dead_pid, ended_job, start_runner, stop_process, wait_for
from leftovers import runner_pid

from workbench.config import RunConfig
from workbench.jobs import control, fairness, processes, queue
from workbench.jobs.processes import process_start_time
from workbench.jobs.runner import Runner
from workbench.models.demo_task import DEMO_TRAIN_FILE
from workbench.models.device import Gpu
from workbench.planning import presets
from workbench.runs import directory


def short_config(**overrides):
    """A quick demo run without the held-out scoring (the data is given as a plain file)."""
    return presets.demo_config(**{"dataset": str(DEMO_TRAIN_FILE), "num_train_epochs": 0.5, **overrides})


def test_queued_jobs_run_one_at_a_time_in_their_own_process_group(runner_process):
    first, second = control.submit(short_config()), control.submit(short_config())
    running = wait_for(lambda: queue.get_job(first.run_id).pid, what="the first job to start")
    assert os.getpgid(running) == running, "each training process leads its own process group"
    assert queue.get_job(second.run_id).state == "queued"
    assert fairness.queue_position(second.run_id) == 1
    for job in (first, second):
        assert wait_for(lambda job=job: ended_job(job.run_id), timeout=180).state == "succeeded"
    assert queue.get_job(first.run_id).finished_at <= queue.get_job(second.run_id).started_at
    run = directory.get_run(first.run_id)
    assert (run.adapter_dir / "adapter_model.safetensors").is_file()
    assert directory.read_status(run.path).fraction == 1.0


def test_cancel_stops_at_the_next_step_and_keeps_the_adapter(runner_process):
    job = control.submit(short_config(num_train_epochs=50))
    run = directory.get_run(job.run_id)
    wait_for(lambda: directory.read_status(run.path).step >= 2, timeout=120, what="training steps")
    control.request_cancel(job.run_id)
    ended = wait_for(lambda: ended_job(job.run_id), timeout=60, what="the cancel")
    assert ended.state == "cancelled"
    status = directory.read_status(run.path)
    assert status.state == "cancelled" and "Cancelled at step" in status.message
    assert (run.adapter_dir / "adapter_model.safetensors").is_file()
    assert control.request_cancel(job.run_id).state == "cancelled", "cancelling again changes nothing"


def test_a_cancelled_run_resumes_from_where_it_stopped_to_completion(runner_process):
    job = control.submit(short_config(num_train_epochs=3))
    run = directory.get_run(job.run_id)
    wait_for(lambda: directory.read_status(run.path).step >= 3, timeout=120, what="training steps")
    control.request_cancel(job.run_id)
    assert wait_for(lambda: ended_job(job.run_id), timeout=60, what="the cancel").state == "cancelled"
    stopped_at = directory.read_status(run.path).step
    checkpoint = directory.read_status(run.path).last_checkpoint
    assert checkpoint == f"checkpoint-{stopped_at}", "a checkpoint where it stopped"
    control.resume(job.run_id)
    assert wait_for(lambda: ended_job(job.run_id), timeout=180, what="the resumed run").state == "succeeded"
    logged = [record["step"] for record in directory.read_metrics(run.path) if "loss" in record]
    assert logged.count(1) == 1 and logged[-1] == directory.read_status(run.path).max_steps
    assert f"Resuming from checkpoint-{stopped_at}" in (run.path / directory.LOG_FILE).read_text()


def test_a_killed_runner_is_replaced_and_the_job_is_reattached_not_duplicated(demo_home):
    job = control.submit(short_config(num_train_epochs=6))
    first_runner, second_runner = start_runner(demo_home), None
    try:
        pid = wait_for(lambda: queue.get_job(job.run_id).pid, what="the job to start")
        first_runner.send_signal(signal.SIGKILL)
        first_runner.wait(10)
        assert process_start_time(pid) is not None, "the training process outlives its runner"
        second_runner = start_runner(demo_home)
        ended = wait_for(lambda: ended_job(job.run_id), timeout=180, what="the re-attached job")
        assert ended.state == "succeeded" and ended.pid == pid
        assert "Re-attached" in (demo_home / "runner-test.log").read_text()
    finally:
        for runner in (first_runner, second_runner):
            if runner is not None:
                stop_process(runner)


def test_reconcile_marks_a_vanished_process_interrupted_and_requeues_an_unstarted_claim(demo_home):
    lost, unstarted = control.submit(short_config()), control.submit(short_config())
    claim_next()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    queue.mark_running(lost.run_id, int(gone.stdout), "0")
    claim_next()
    Runner().reconcile()
    assert queue.get_job(lost.run_id).state == "interrupted"
    assert directory.read_status(directory.run_dir(lost.run_id)).state == "interrupted"
    assert queue.get_job(unstarted.run_id).state == "queued"


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


def run_in_thread(runner: Runner) -> threading.Thread:
    thread = threading.Thread(target=runner.run_forever, daemon=True)
    thread.start()
    return thread


def overlapped(a: queue.Job, b: queue.Job) -> bool:
    return a.started_at < b.finished_at and b.started_at < a.finished_at


def test_jobs_share_a_gpu_only_when_the_estimate_fits_the_free_memory(demo_home):
    # There is no CUDA device here: the one thing replaced is the GPU's memory reading (nvidia-smi); the jobs
    # themselves really train, in their own processes, on the CPU.
    first = control.submit(short_config(num_train_epochs=4), peak_gb=10.0)
    second = control.submit(short_config(num_train_epochs=4), peak_gb=10.0)  # 10 GB x 1.2 + 2 GB = 14 GB <= 15 GB free
    unestimated = control.submit(short_config())
    thread = run_in_thread(Runner(poll_s=0.2, idle_exit_s=2, gpus=lambda: [Gpu(0, 15.0, 80.0)]))
    wait_for(lambda: queue.get_job(second.run_id).state == "running", timeout=120, what="the second job to start")
    assert queue.get_job(first.run_id).state == "running", "the second job started beside the first"
    first_status = directory.read_status(directory.get_run(first.run_id).path)
    assert first_status.steps_this_attempt >= 1, "only once the first had taken its memory"
    assert queue.get_job(unestimated.run_id).state == "queued", "a job without an estimate waits to run alone"
    thread.join(300)
    done = [queue.get_job(job.run_id) for job in (first, second, unestimated)]
    assert [job.state for job in done] == ["succeeded"] * 3
    assert overlapped(done[0], done[1]) and not overlapped(done[2], done[0]) and not overlapped(done[2], done[1])


def test_a_job_whose_estimate_does_not_fit_waits_for_the_gpu(demo_home):
    # As above, only the memory reading of the (absent) GPU is replaced: 13 GB free is less than 10 x 1.2 + 2.
    first = control.submit(short_config(), peak_gb=10.0)
    second = control.submit(short_config(), peak_gb=10.0)
    run_in_thread(Runner(poll_s=0.2, idle_exit_s=2, gpus=lambda: [Gpu(0, 13.0, 80.0)])).join(300)
    done = [queue.get_job(job.run_id) for job in (first, second)]
    assert [job.state for job in done] == ["succeeded"] * 2 and not overlapped(*done)


def test_running_estimates_are_summed_for_pre_flight(home):
    first = control.submit(RunConfig(), peak_gb=6.0)
    control.submit(RunConfig(), peak_gb=3.5)
    assert queue.running_estimate_gb() == (0, 0.0), "queued jobs hold no memory yet"
    claim_next()
    queue.mark_running(first.run_id, dead_pid(), "0")
    assert queue.running_estimate_gb() == (1, 6.0)


def test_the_checked_job_is_the_one_claimed_and_all_estimates_must_fit_the_whole_gpu(demo_home):
    first = control.submit(RunConfig(), peak_gb=30.0)
    second = control.submit(RunConfig(), peak_gb=30.0)
    control.request_cancel(first.run_id)
    assert queue.claim(first.id) is None, "a job no longer queued is not claimed"
    assert queue.claim(second.id).state == "starting"
    queue.mark_running(second.run_id, dead_pid(), "0")
    directory.update_status(directory.get_run(second.run_id).path, steps_this_attempt=1)
    waiting = control.submit(RunConfig(), peak_gb=30.0)
    started = queue.list_jobs(("running",))
    # Only the (absent) GPU's memory reading is replaced: plenty free now, but 2 x 30 GB x 1.2 + 2 GB > 70 GB in all.
    assert not Runner().fits_beside(queue.get_job(waiting.run_id), started, [Gpu(0, 50.0, 70.0)])
    assert Runner().fits_beside(queue.get_job(waiting.run_id), started, [Gpu(0, 50.0, 80.0)])
    directory.update_status(directory.get_run(second.run_id).path, steps_this_attempt=0)  # e.g. just resumed
    assert not Runner().fits_beside(queue.get_job(waiting.run_id), started, [Gpu(0, 50.0, 80.0)])


def test_a_runner_stops_when_its_data_folder_is_removed(home):
    process = start_runner(home, idle_exit=600)
    try:
        wait_for(lambda: runner_pid(home), what="the runner to start")
        shutil.rmtree(home)
        assert process.wait(30) == 0, "the runner noticed and exited instead of recreating the folder"
        assert not home.exists()
    finally:
        stop_process(process)


def test_the_queue_keeps_running_while_one_runs_files_are_garbage(runner_process):
    # Regression: `[1, 2]` written into a running run's status.json killed the trainer, then the runner, then every
    # restarted runner while reconciling; the job stayed "running" for ever and no queued job started.
    broken = control.submit(short_config(num_train_epochs=2))
    broken_dir = directory.run_dir(broken.run_id)
    wait_for(lambda: directory.read_status(broken_dir).step >= 1, timeout=120, what="the first steps")
    for garbage in (b"[1, 2]", b"\xff\xfe", b"garbage{{"):
        (broken_dir / directory.STATUS_FILE).write_bytes(garbage)
        (broken_dir / directory.METRICS_FILE).open("ab").write(b"\xc3")  # half a character
    after = control.submit(short_config())
    assert wait_for(lambda: ended_job(broken.run_id), timeout=240).state in ("succeeded", "failed")
    assert wait_for(lambda: ended_job(after.run_id), timeout=240).state == "succeeded", "the next job still ran"
    assert runner_process.poll() is None, "the runner lives on"


def test_reconcile_survives_a_garbage_status_of_a_vanished_run(demo_home):
    lost = control.submit(short_config())
    claim_next()
    queue.mark_running(lost.run_id, dead_pid(), "0")
    (directory.run_dir(lost.run_id) / directory.STATUS_FILE).write_bytes(b"[1, 2]")
    (directory.run_dir(lost.run_id) / directory.RECORD_FILE).write_bytes(b"\xff")
    Runner().reconcile()
    assert queue.get_job(lost.run_id).state == "interrupted"
    assert directory.read_status(directory.run_dir(lost.run_id)).state == "interrupted"


def test_a_pid_recorded_in_another_boot_is_never_alive(demo_home):
    # Regression: after a reboot a reused pid kept a dead job "alive" through the process-group check.
    leader = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        now = processes.process_start_time(leader.pid)
        assert processes.group_alive(leader.pid, now)
        ticks = now.rpartition(":")[2]
        assert not processes.group_alive(leader.pid, f"an-earlier-boot:{ticks}")
        assert processes.group_alive(leader.pid, ticks), "start times written before boot ids still count"
    finally:
        leader.kill()
        leader.wait()
