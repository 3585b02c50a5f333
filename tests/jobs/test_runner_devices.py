"""Tests for workbench.jobs.runner on a server with several GPUs: each run gets GPUs of its own through
CUDA_VISIBLE_DEVICES, a run waits while too few are free, and one asking for more than the server has fails in words.

There is no CUDA device here: the one thing replaced is the runner's reading of the GPUs (nvidia-smi). The runs
themselves really train, in their own processes, on the CPU, and record the devices they were given.
"""

import os
import threading

import pytest

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.jobs import control, queue
from workbench.jobs.runner import Runner
from workbench.models.demo_task import DEMO_TRAIN_FILE
from workbench.models.device import Gpu
from workbench.planning import presets
from workbench.runs import directory, record
from workbench.team.identity import Actor


TWO_GPUS = [Gpu(0, 79.0, 80.0), Gpu(1, 80.0, 80.0)]


def quick(**overrides) -> RunConfig:
    return presets.demo_config(**{"dataset": str(DEMO_TRAIN_FILE), "num_train_epochs": 0.5, **overrides})


def test_each_run_gets_a_gpu_of_its_own_and_the_third_waits_for_one(demo_home):
    runs = [control.submit(quick(), Actor(name)).run_id for name in ("alice", "bob", "carol")]
    runner = Runner(poll_s=0.2, idle_exit_s=2, gpus=lambda: TWO_GPUS)
    runner.tick()
    runner.tick()
    runner.tick()
    given = {run_id: queue.get_job(run_id).devices for run_id in runs}
    assert sorted([given[runs[0]], given[runs[1]]]) == ["0", "1"] and given[runs[2]] == ""
    assert queue.get_job(runs[2]).state == "queued", "no GPU is free for the third"
    thread = threading.Thread(target=runner.loop, daemon=True)
    thread.start()
    thread.join(400)
    done = [queue.get_job(run_id) for run_id in runs]
    assert [job.state for job in done] == ["succeeded"] * 3
    seen = [record.read_record(directory.run_dir(run_id))["gpus_given"] for run_id in runs]
    assert sorted(seen[:2]) == ["0", "1"] and seen[2] in ("0", "1"), seen
    first, second, third = done
    assert first.started_at < second.finished_at and second.started_at < first.finished_at, "the two ran together"
    assert third.started_at >= min(first.finished_at, second.finished_at) - 1


def test_a_run_asking_for_more_gpus_than_the_server_has_is_refused_or_failed_in_words(home):
    cores = os.cpu_count()
    with pytest.raises(UserError, match=f"asks for {cores + 1} GPUs and this server has no GPU and {cores} CPU cores"):
        control.submit(RunConfig(gpus=cores + 1))
    assert control.submit(RunConfig(gpus=cores, backend="local")).gpus == cores, "one process per core on a CPU"
    control.request_cancel(queue.list_jobs()[0].run_id)
    job = control.submit(RunConfig(gpus=1))
    with queue.connect() as db:  # as if it had been queued on a server that had more GPUs then
        db.execute("UPDATE jobs SET gpus = 3 WHERE run_id = ?", (job.run_id,))
    Runner(gpus=lambda: TWO_GPUS).tick()
    failed = queue.get_job(job.run_id)
    assert failed.state == "failed" and "asks for 3 GPUs and this server has 2 GPUs" in failed.error
    assert directory.read_status(directory.run_dir(job.run_id)).failure == "too_many_gpus"
