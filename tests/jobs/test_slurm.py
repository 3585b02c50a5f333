"""Tests for workbench.jobs.slurm against a real single-node Slurm (slurmctld, slurmd and munge started here): a demo
job runs to success through sbatch, a cancel goes through scancel and the run resumes, a job Slurm ends or requeues
on its own resumes from its last checkpoint."""

import os
import subprocess

import pytest
from clusters import demo_on, runner_with, slurm_cluster
from conftest import ended_job, wait_for

from workbench.errors import UserError
from workbench.jobs import backend, control, queue, slurm
from workbench.jobs.queue import Job
from workbench.runs import directory


pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with slurm_cluster(tmp_path_factory.mktemp("slurm")) as env:
        yield env


@pytest.fixture
def slurm_runner(demo_home, cluster, monkeypatch):
    settings = {**cluster, "WORKBENCH_SLURM_PARTITION": "debug", "WORKBENCH_SLURM_GRES": ""}
    with runner_with(demo_home, settings, monkeypatch) as runner:
        yield runner


def slurm_state(job: Job) -> str:
    return (slurm.job_fields(queue.get_job(job.run_id).backend_job) or {}).get("JobState", "")


def test_a_demo_job_runs_to_success_through_sbatch_with_its_adapter_in_the_run_directory(slurm_runner):
    job = control.submit(demo_on("slurm"))
    ended = wait_for(lambda: ended_job(job.run_id), timeout=240, what="the Slurm job")
    assert ended.state == "succeeded", directory.tail_log(directory.run_dir(job.run_id), 2000)
    assert ended.backend == "slurm" and ended.backend_job.isdigit()
    assert backend.where(ended) == f"Slurm job {ended.backend_job}"
    assert slurm_state(ended) == "COMPLETED"
    run = directory.get_run(job.run_id)
    assert (run.adapter_dir / "adapter_model.safetensors").is_file()
    assert directory.read_status(run.path).fraction == 1.0
    assert "-m workbench.training" in (run.path / slurm.SCRIPT_FILE).read_text()
    assert "Run finished: succeeded" in (run.path / directory.LOG_FILE).read_text()


def test_cancel_goes_through_scancel_and_the_run_resumes_to_completion(slurm_runner):
    job = control.submit(demo_on("slurm", num_train_epochs=3))
    run = directory.get_run(job.run_id)
    wait_for(lambda: directory.read_status(run.path).step >= 3, timeout=180, what="training steps on Slurm")
    assert queue.get_job(job.run_id).state == "running"
    control.request_cancel(job.run_id)
    assert wait_for(lambda: ended_job(job.run_id), timeout=90, what="the cancel").state == "cancelled"
    stopped_at = directory.read_status(run.path).step
    assert directory.read_status(run.path).last_checkpoint == f"checkpoint-{stopped_at}"
    first_slurm_job = queue.get_job(job.run_id).backend_job
    control.resume(job.run_id)
    ended = wait_for(lambda: ended_job(job.run_id), timeout=240, what="the resumed Slurm job")
    assert ended.state == "succeeded" and ended.backend_job != first_slurm_job, "a new batch job"
    assert f"Resuming from checkpoint-{stopped_at}" in (run.path / directory.LOG_FILE).read_text()


def test_a_job_slurm_cancels_on_its_own_is_interrupted_and_resumes(slurm_runner, cluster):
    job = control.submit(demo_on("slurm", num_train_epochs=20))  # long enough to be running when Slurm acts
    run = directory.get_run(job.run_id)
    wait_for(lambda: directory.read_status(run.path).last_checkpoint, timeout=180, what="a first checkpoint")
    slurm_job = queue.get_job(job.run_id).backend_job
    subprocess.run(["scancel", slurm_job], check=True, env={**os.environ, **cluster})
    ended = wait_for(lambda: ended_job(job.run_id), timeout=90, what="the job Slurm cancelled")
    assert ended.state == "interrupted" and "Slurm cancelled the job" in ended.error
    assert directory.read_status(run.path).state == "interrupted"
    control.resume(job.run_id)
    assert wait_for(lambda: ended_job(job.run_id), timeout=240, what="the resumed run").state == "succeeded"
    assert "Resuming from checkpoint-" in (run.path / directory.LOG_FILE).read_text()


def test_a_requeued_job_comes_back_and_resumes_from_its_last_checkpoint(slurm_runner, cluster):
    job = control.submit(demo_on("slurm", num_train_epochs=20))  # long enough to be running when Slurm acts
    run = directory.get_run(job.run_id)
    wait_for(lambda: directory.read_status(run.path).last_checkpoint, timeout=180, what="a first checkpoint")
    slurm_job = queue.get_job(job.run_id).backend_job
    subprocess.run(["scontrol", "requeue", slurm_job], check=True, env={**os.environ, **cluster})
    wait_for(lambda: queue.get_job(job.run_id).state == "starting", timeout=90, what="the job back in Slurm's queue")
    assert "Back in Slurm's queue" in directory.read_status(run.path).message
    # Slurm holds a requeued job for about two minutes before it may start again; the test need not wait for that.
    release = ["scontrol", "update", f"JobId={slurm_job}", "StartTime=now"]
    subprocess.run(release, check=True, env={**os.environ, **cluster})
    ended = wait_for(lambda: ended_job(job.run_id), timeout=300, what="the requeued job")
    assert ended.state == "succeeded" and ended.backend_job == slurm_job, "Slurm ran the same job again"
    assert "Resuming from checkpoint-" in (run.path / directory.LOG_FILE).read_text()
    assert slurm.job_fields(slurm_job)["Restarts"] == "1"


def test_slurm_end_states_become_the_workbench_states():
    assert slurm.ended("COMPLETED", "0:0", "COMPLETED").exit_code == 0
    assert slurm.ended("FAILED", "1:0", "FAILED").exit_code == 1
    assert slurm.ended("FAILED", "0:9", "FAILED").exit_code == -9, "killed by a signal"
    timeout = slurm.ended("TIMEOUT", "0:15", "TIMEOUT")
    assert timeout.interrupted and "time limit" in timeout.failure.message
    assert slurm.ended("NODE_FAIL", "0:0", "NODE_FAIL").interrupted
    assert slurm.ended("OUT_OF_MEMORY", "0:125", "OUT_OF_MEMORY").failure.code == "host_oom"


def test_a_server_without_slurm_set_up_refuses_a_slurm_run_in_one_sentence(demo_home, monkeypatch):
    monkeypatch.delenv("WORKBENCH_SLURM_PARTITION", raising=False)
    with pytest.raises(UserError, match="not set up to run jobs on Slurm: an admin sets WORKBENCH_SLURM_PARTITION"):
        control.submit(demo_on("slurm"))
    assert queue.list_jobs() == []
