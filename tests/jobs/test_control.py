"""Tests for workbench.jobs.control and the queue it writes: submit, claim, queue position, cancel, permissions."""

import pytest
from conftest import claim_next

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.jobs import control, fairness, queue
from workbench.runs import directory
from workbench.team.identity import Actor


def test_submit_queues_and_positions_follow_order(home):
    first, second = control.submit(RunConfig(run_name="a")), control.submit(RunConfig(run_name="b"))
    assert first.state == second.state == "queued"
    assert fairness.queue_position(first.run_id) == 1 and fairness.queue_position(second.run_id) == 2


def test_invalid_config_is_refused_before_anything_is_written(home):
    with pytest.raises(UserError, match="Learning rate"):
        control.submit(RunConfig(learning_rate=-1))
    assert queue.list_jobs() == [] and directory.list_runs() == []


def test_the_pre_flight_estimate_and_the_owner_reach_the_run_directory(home):
    job = control.submit(RunConfig(), actor=Actor("alice"), peak_gb=3.25)
    status = directory.read_status(directory.run_dir(job.run_id))
    assert (status.owner, status.estimated_peak_gb, status.state) == ("alice", 3.25, "queued")


def test_claim_takes_the_oldest_once(home):
    first, second = control.submit(RunConfig()), control.submit(RunConfig())
    claimed = claim_next()
    assert claimed.run_id == first.run_id and claimed.state == "starting"
    assert claim_next().run_id == second.run_id
    assert claim_next() is None


def test_cancel_is_immediate_when_queued_and_idempotent(home):
    job = control.submit(RunConfig())
    assert control.request_cancel(job.run_id).state == "cancelled"
    assert control.request_cancel(job.run_id).state == "cancelled"
    assert directory.read_status(directory.get_run(job.run_id).path).state == "cancelled"
    assert claim_next() is None


def test_cancel_of_a_started_job_is_a_request_for_the_runner(home):
    job = control.submit(RunConfig())
    claim_next()
    queue.mark_running(job.run_id, pid=12345, proc_start="1")
    cancelled = control.request_cancel(job.run_id)
    assert cancelled.state == "running" and cancelled.cancel_requested == 1


def test_missing_dataset_or_model_folder_is_refused_at_submit(home, tmp_path):
    with pytest.raises(UserError, match="no dataset file"):
        control.submit(RunConfig(dataset=str(tmp_path / "absent.jsonl")))
    with pytest.raises(UserError, match="no model folder"):
        control.submit(RunConfig(model=str(tmp_path / "no-such-model")))
    assert queue.list_jobs() == []


def test_someone_elses_run_cannot_be_cancelled_or_resumed_but_its_owner_and_admins_can(home):
    job = control.submit(RunConfig(), actor=Actor("alice"))
    with pytest.raises(UserError, match="There is no run .* that you can see"):
        control.request_cancel(job.run_id, Actor("bob"))
    control.share(job.run_id, Actor("alice"))
    with pytest.raises(UserError, match="made by alice; only they or an admin can cancel it"):
        control.request_cancel(job.run_id, Actor("bob"))
    assert queue.get_job(job.run_id).state == "queued", "a refused cancel changes nothing"
    assert control.request_cancel(job.run_id, Actor("alice")).state == "cancelled"
    with pytest.raises(UserError, match="can resume it"):
        control.resume(job.run_id, Actor("bob"))
    other = control.submit(RunConfig(), actor=Actor("alice"))
    assert control.request_cancel(other.run_id, Actor("ops", "admin")).state == "cancelled"
    third = control.submit(RunConfig(), actor=Actor("alice"))
    assert control.request_cancel(third.run_id).state == "cancelled", "the command line's local user is an admin"


def test_queue_rows_show_place_owner_and_estimate(home):
    first = control.submit(RunConfig(run_name="a"), actor=Actor("alice"), peak_gb=7.5)
    second = control.submit(RunConfig(run_name="b"), actor=Actor("bob"))
    queue.claim(first.id)
    rows = {row["run"]: row for row in fairness.queue_rows(queue.list_jobs())}
    assert (rows[first.run_id]["state"], rows[first.run_id]["position"]) == ("starting", "")
    assert (rows[second.run_id]["position"], rows[second.run_id]["owner"]) == ("1", "bob")
    assert rows[first.run_id]["memory estimate (GB)"] == "7.5" and rows[first.run_id]["started at"]
    assert rows[second.run_id]["started at"] == "" and rows[second.run_id]["memory estimate (GB)"] == "none made"


def test_from_the_browser_data_comes_only_from_the_library_and_the_server_folder(home, tmp_path, monkeypatch):
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"text": "private"}\n' * 20)
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "team.jsonl").write_text('{"text": "shared"}\n' * 20)
    (folder / "sneaky.jsonl").symlink_to(secret)  # a link inside the folder that leads out of it
    monkeypatch.setenv("WORKBENCH_DATASETS_DIR", str(folder))
    refused = [str(secret), str(folder / "sneaky.jsonl"), str(tmp_path / "absent.jsonl"), "/etc/passwd"]
    for path in refused:
        for field in ("dataset", "eval_dataset"):
            with pytest.raises(UserError, match="comes from the dataset library or the server folder") as caught:
                control.submit(RunConfig(**{field: path}), actor=Actor("bob"), browser=True)
            assert "private" not in str(caught.value)
    assert queue.list_jobs() == [] and directory.list_runs() == []
    assert (
        control.submit(RunConfig(dataset=str(folder / "team.jsonl")), actor=Actor("bob"), browser=True).state
        == "queued"
    )
    assert control.submit(RunConfig(dataset=str(secret))).state == "queued", "the command line may use any file"


def test_a_run_without_a_name_is_named_after_its_model_and_data(home):
    from workbench.data import library, validation

    content = b'{"text": "hello"}\n'
    version = library.create_dataset("identity.jsonl", content, validation.validate(content, "identity.jsonl"))
    job = control.submit(RunConfig(dataset=str(version.path)))
    assert job.run_id.endswith("-demo-identity-v1")
    assert control.submit(RunConfig()).run_id.endswith("-demo-demo-data")
    assert control.submit(RunConfig(run_name="pilot")).run_id.endswith("-pilot")


def test_sharded_full_fine_tuning_is_refused_on_a_server_without_gpus(home):
    with pytest.raises(UserError, match="shards the model \\(FSDP\\), which needs GPUs; set GPUs to 1"):
        control.submit(RunConfig(method="full", gpus=2))
    assert control.submit(RunConfig(method="lora", gpus=2)).gpus == 2, "data parallel LoRA runs on CPU processes"
