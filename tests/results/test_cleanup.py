"""Freeing disk: checkpoints or whole runs go only when the run is idle and the user may control it."""

import json
import os
import time

import pytest
from conftest import copy_trained_run

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.jobs import control, queue
from workbench.results import cleanup, merge
from workbench.runs import directory
from workbench.team.identity import Actor


def test_deleting_checkpoints_frees_their_bytes_and_keeps_the_trained_model(demo_home, trained_demo):
    run = directory.get_run(copy_trained_run(trained_demo, demo_home, with_checkpoints=True).name)
    before = cleanup.folder_bytes(run, "checkpoints")
    assert before > 100_000
    assert cleanup.delete_checkpoints(run) == before
    assert not (run.path / "checkpoints").exists()
    assert run.has_output and directory.read_metrics(run.path), "the adapter and the charts stay"


def test_only_an_idle_run_of_ones_own_can_be_deleted(home):
    job = control.submit(RunConfig(), actor=Actor("alice"))
    run = directory.get_run(job.run_id)
    with pytest.raises(UserError, match="is queued; cancel it"):
        cleanup.delete_run(run, Actor("alice"))
    control.request_cancel(job.run_id)
    with pytest.raises(UserError, match="no run .* that you can see"):
        cleanup.delete_run(run, Actor("bob"))
    control.share(job.run_id, Actor("alice"))
    with pytest.raises(UserError, match="made by alice; only they or an admin can delete it"):
        cleanup.delete_run(run, Actor("bob"))
    assert run.path.is_dir()
    cleanup.delete_run(run, Actor("alice"))
    assert not run.path.exists() and queue.find_job(job.run_id) is None
    assert directory.list_runs() == []


def test_a_run_being_merged_is_not_deleted(home):
    run = directory.create_run(RunConfig())
    state = {"state": "running", "pid": os.getpid(), "updated_at": time.time()}
    merge.merge_task(run).state_path.write_text(json.dumps(state))
    with pytest.raises(UserError, match="being merged"):
        cleanup.delete_checkpoints(run)


def test_a_run_without_a_job_row_still_belongs_to_who_queued_it(home):
    run = directory.create_run(RunConfig())
    directory.update_status(run.path, owner="alice")  # as control.submit records it before the row exists
    with pytest.raises(UserError, match="no run .* that you can see"):
        cleanup.delete_checkpoints(run, Actor("bob"))
    cleanup.delete_run(run, Actor("alice"))
    assert not run.path.exists()
    assert not list((home / "runs").iterdir()), "no trash folder is left behind"


def test_the_job_row_of_an_active_run_is_never_forgotten(home):
    job = control.submit(RunConfig())
    assert queue.forget(job.run_id) is False
    assert queue.find_job(job.run_id).state == "queued"


def test_the_runner_fails_a_job_whose_folder_was_removed_and_goes_on(home):
    import shutil

    from workbench.jobs.runner import Runner

    job = control.submit(RunConfig())
    shutil.rmtree(directory.get_run(job.run_id).path)
    Runner(poll_s=0.1, idle_exit_s=1).tick()
    gone = queue.get_job(job.run_id)
    assert gone.state == "failed" and "run folder is gone" in gone.error
