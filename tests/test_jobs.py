"""Tests for workbench.jobs: the SQLite job table (submit, claim, queue position, cancel)."""

import pytest

from workbench import jobs, runs
from workbench.config import RunConfig
from workbench.errors import UserError


def test_submit_queues_and_positions_follow_order(home):
    first, second = jobs.submit(RunConfig(run_name="a")), jobs.submit(RunConfig(run_name="b"))
    assert first.state == second.state == "queued"
    assert jobs.queue_position(first.run_id) == 1 and jobs.queue_position(second.run_id) == 2


def test_invalid_config_is_refused_before_anything_is_written(home):
    with pytest.raises(UserError, match="Learning rate"):
        jobs.submit(RunConfig(learning_rate=-1))
    assert jobs.list_jobs() == [] and runs.list_runs() == []


def test_claim_takes_the_oldest_once(home):
    first, second = jobs.submit(RunConfig()), jobs.submit(RunConfig())
    claimed = jobs.claim_next()
    assert claimed.run_id == first.run_id and claimed.state == "starting"
    assert jobs.claim_next().run_id == second.run_id
    assert jobs.claim_next() is None


def test_cancel_is_immediate_when_queued_and_idempotent(home):
    job = jobs.submit(RunConfig())
    assert jobs.request_cancel(job.run_id).state == "cancelled"
    assert jobs.request_cancel(job.run_id).state == "cancelled"
    assert runs.read_status(runs.get_run(job.run_id).path)["state"] == "cancelled"
    assert jobs.claim_next() is None


def test_cancel_of_a_started_job_is_a_request_for_the_runner(home):
    job = jobs.submit(RunConfig())
    jobs.claim_next()
    jobs.mark_running(job.run_id, pid=12345, proc_start="1")
    cancelled = jobs.request_cancel(job.run_id)
    assert cancelled.state == "running" and cancelled.cancel_requested == 1


def test_missing_dataset_or_model_folder_is_refused_at_submit(home, tmp_path):
    with pytest.raises(UserError, match="no dataset file"):
        jobs.submit(RunConfig(dataset=str(tmp_path / "absent.jsonl")))
    with pytest.raises(UserError, match="no model folder"):
        jobs.submit(RunConfig(model=str(tmp_path / "no-such-model")))
    assert jobs.list_jobs() == []


def test_someone_elses_run_cannot_be_cancelled_or_resumed_but_its_owner_and_admins_can(home, monkeypatch):
    monkeypatch.setenv("WORKBENCH_ADMINS", "ops")
    job = jobs.submit(RunConfig(), owner="alice")
    with pytest.raises(UserError, match="started by alice; only alice or an admin"):
        jobs.request_cancel(job.run_id, user="bob")
    assert jobs.get_job(job.run_id).state == "queued", "a refused cancel changes nothing"
    assert jobs.request_cancel(job.run_id, user="alice").state == "cancelled"
    with pytest.raises(UserError, match="can resume it"):
        jobs.resume(job.run_id, user="bob")
    other = jobs.submit(RunConfig(), owner="alice")
    assert jobs.request_cancel(other.run_id, user="ops").state == "cancelled"
    third = jobs.submit(RunConfig(), owner="alice")
    assert jobs.request_cancel(third.run_id).state == "cancelled", "the command line (no user) always may"


def test_queue_rows_show_place_owner_and_estimate(home):
    first = jobs.submit(RunConfig(run_name="a"), owner="alice", peak_gb=7.5)
    second = jobs.submit(RunConfig(run_name="b"), owner="bob")
    jobs.claim(first.id)
    rows = {row["run"]: row for row in jobs.queue_rows(jobs.list_jobs())}
    assert (rows[first.run_id]["state"], rows[first.run_id]["position"]) == ("starting", None)
    assert (rows[second.run_id]["position"], rows[second.run_id]["owner"]) == (1, "bob")
    assert rows[first.run_id]["memory estimate (GB)"] == 7.5 and rows[first.run_id]["started at"]
    assert rows[second.run_id]["started at"] == "" and rows[second.run_id]["memory estimate (GB)"] is None
