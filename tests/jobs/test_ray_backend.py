"""Tests for workbench.jobs.ray_backend against a real local Ray head (``ray start --head``): a demo job runs to
success through Ray Jobs, a cancel is Ray's stop and the run resumes, and a head that dies leaves the run interrupted,
to resume once the head is back."""

import pytest
from clusters import demo_on, ray_head, runner_with
from conftest import ended_job, wait_for

from workbench.jobs import backend, control
from workbench.jobs.ray_backend import RayBackend, job_environment
from workbench.runs import directory


pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    with ray_head(tmp_path_factory.mktemp("ray")) as started:
        yield started


@pytest.fixture
def ray_runner(demo_home, head, monkeypatch):
    settings = {"WORKBENCH_RAY_ADDRESS": head.address, "WORKBENCH_RAY_GPUS": "0", "WORKBENCH_RAY_LOST_AFTER_S": "5"}
    with runner_with(demo_home, settings, monkeypatch) as runner:
        yield runner


def test_a_demo_job_runs_to_success_through_ray_jobs_with_its_adapter_in_the_run_directory(ray_runner, head):
    job = control.submit(demo_on("ray"))
    ended = wait_for(lambda: ended_job(job.run_id), timeout=240, what="the Ray job")
    assert ended.state == "succeeded", directory.tail_log(directory.run_dir(job.run_id), 2000)
    assert ended.backend_job == f"workbench-{job.run_id}-1"
    assert backend.where(ended) == f"Ray job workbench-{job.run_id}-1"
    run = directory.get_run(job.run_id)
    assert (run.adapter_dir / "adapter_model.safetensors").is_file()
    assert "Run finished: succeeded" in (run.path / directory.LOG_FILE).read_text()
    assert "Running entrypoint for job" in (run.path / directory.BACKEND_LOG_FILE).read_text(), "Ray's own log"
    assert RayBackend().status(ended).detail == "SUCCEEDED"


def test_cancel_is_rays_stop_and_the_run_resumes_to_completion(ray_runner):
    job = control.submit(demo_on("ray", num_train_epochs=3))
    run = directory.get_run(job.run_id)
    wait_for(lambda: directory.read_status(run.path).step >= 3, timeout=180, what="training steps on Ray")
    control.request_cancel(job.run_id)
    assert wait_for(lambda: ended_job(job.run_id), timeout=90, what="the cancel").state == "cancelled"
    stopped_at = directory.read_status(run.path).step
    assert directory.read_status(run.path).last_checkpoint == f"checkpoint-{stopped_at}"
    control.resume(job.run_id)
    ended = wait_for(lambda: ended_job(job.run_id), timeout=240, what="the resumed Ray job")
    assert ended.state == "succeeded" and ended.backend_job == f"workbench-{job.run_id}-2", "a new submission"
    assert f"Resuming from checkpoint-{stopped_at}" in (run.path / directory.LOG_FILE).read_text()


def test_a_head_that_dies_leaves_the_run_interrupted_and_it_resumes_once_the_head_is_back(ray_runner, head):
    job = control.submit(demo_on("ray", num_train_epochs=30))  # long enough to be running when the head stops
    run = directory.get_run(job.run_id)
    wait_for(lambda: directory.read_status(run.path).last_checkpoint, timeout=180, what="a first checkpoint")
    head.stop()
    ended = wait_for(lambda: ended_job(job.run_id), timeout=90, what="the run to be given up")
    assert ended.state == "interrupted" and "stopped answering" in ended.error
    head.start()
    control.resume(job.run_id)
    assert wait_for(lambda: ended_job(job.run_id), timeout=240, what="the resumed run").state == "succeeded"
    assert "Resuming from checkpoint-" in (run.path / directory.LOG_FILE).read_text()


def test_the_job_gets_the_workbench_settings_and_rays_grace_in_whole_seconds(monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", "/data/workbench")
    monkeypatch.setenv("SECRET_TOKEN", "not for the cluster")
    env = job_environment({"CUDA_VISIBLE_DEVICES": "0"})
    assert env["WORKBENCH_HOME"] == "/data/workbench" and "SECRET_TOKEN" not in env
    assert env["RAY_JOB_STOP_WAIT_TIME_S"].isdigit() and env["CUDA_VISIBLE_DEVICES"] == "0"
