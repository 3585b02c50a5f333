"""Tests for workbench.jobs.gpu_share: what running jobs have yet to take, what the model server holds, and the two
fit rules (a chat model beside training, a job beside others and the server). No GPU here: the memory readings are
numbers the tests give, as the runner's and the store's seams take them."""

import subprocess
import sys

from conftest import claim_next, dead_pid

from workbench.config import RunConfig
from workbench.jobs import control, gpu_share, queue
from workbench.jobs.runner import Runner
from workbench.models.device import Gpu
from workbench.runs import directory


def running_job(peak_gb: float, holding_gb: float | None) -> str:
    job = control.submit(RunConfig(), peak_gb=peak_gb)
    claim_next()
    queue.mark_running(job.run_id, dead_pid(), "0")
    if holding_gb is not None:
        directory.update_status(directory.run_dir(job.run_id), memory_gb=holding_gb, memory_place="GPU memory")
    return job.run_id


def test_running_jobs_count_with_what_they_have_yet_to_take(demo_home):
    assert gpu_share.jobs_yet_to_take_gb() == 0.0
    running_job(10.0, None)  # starting up: its whole estimate, with the margin, is still to come
    running_job(20.0, 30.0)  # past its estimate already: nothing more
    control.submit(RunConfig(), peak_gb=50.0)  # queued: holds nothing and is not counted here
    assert gpu_share.jobs_yet_to_take_gb() == 12.0


def test_what_the_model_server_holds_counts_only_while_it_lives(demo_home):
    assert gpu_share.server_gpu_gb() == 0.0
    gpu_share.record_server_gpu(6.5)  # written by this (live) process
    assert gpu_share.server_gpu_gb() == 6.5
    code = "from workbench.jobs import gpu_share; gpu_share.record_server_gpu(9.0)"
    subprocess.run([sys.executable, "-c", code], check=True)  # a server that has since ended
    assert gpu_share.server_gpu_gb() == 0.0


def test_a_chat_model_fits_only_in_what_training_leaves_free():
    assert gpu_share.chat_fits(10.0, free_gb=40.0, yet_to_take_gb=20.0)  # 12.5 GB needed, 20 left
    assert not gpu_share.chat_fits(10.0, free_gb=40.0, yet_to_take_gb=30.0)  # 12.5 needed, 10 left


def test_the_runner_counts_the_model_servers_memory_before_starting_a_job_beside_another(demo_home):
    first = running_job(30.0, 30.0)
    directory.update_status(directory.run_dir(first), steps_this_attempt=1)
    waiting = queue.get_job(control.submit(RunConfig(), peak_gb=30.0).run_id)
    started = queue.list_jobs(("running",))
    runner = Runner(gpus=lambda: [Gpu(0, 50.0, 80.0)])
    assert runner.fits_beside(waiting, started), "2 x 30 GB x 1.2 + 2 GB = 74 GB of 80"
    gpu_share.record_server_gpu(10.0)
    assert not runner.fits_beside(waiting, started), "74 GB + the server's 10 GB > 80 GB"
