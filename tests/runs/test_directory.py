"""Tests for workbench.runs: the run directory as the interface between the app and the training process."""

import json
import time

import pytest

from workbench import words
from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.runs import directory, held_out_scores


def test_create_run_writes_config_and_queued_status(home):
    run = directory.create_run(RunConfig(run_name="my pilot/1"))
    assert run.path.parent == home / "runs"
    assert "my-pilot-1" in run.run_id
    assert RunConfig.load(run.path / directory.CONFIG_FILE).run_name == "my pilot/1"
    assert directory.read_status(run.path).state == "queued"


def test_run_ids_stay_unique_within_one_second(home):
    ids = {directory.create_run(RunConfig(run_name="same")).run_id for _ in range(5)}
    assert len(ids) == 5
    assert [run.run_id for run in directory.list_runs()] == sorted(ids, reverse=True)


def test_read_metrics_skips_a_half_written_last_line(home):
    run = directory.create_run(RunConfig())
    directory.append_metrics(run.path, {"step": 1, "loss": 2.0})
    directory.append_metrics(run.path, {"step": 2, "loss": 1.5})
    with open(run.path / directory.METRICS_FILE, "a") as handle:
        handle.write('{"step": 3, "lo')
    assert [record["loss"] for record in directory.read_metrics(run.path)] == [2.0, 1.5]


def test_progress_gives_fraction_and_eta(home):
    run = directory.create_run(RunConfig())
    directory.update_status(run.path, state="running", started_at=time.time() - 10, step=25, max_steps=100, epoch=0.75)
    status = directory.read_status(run.path)
    assert status.fraction == 0.25
    assert 29 <= status.eta_s() <= 31
    assert words.format_duration(status.eta_s()) in {"29 s", "30 s", "31 s"}


def test_status_file_is_never_half_written(home):
    run = directory.create_run(RunConfig())
    directory.update_status(run.path, state="running", message="x" * 100_000)
    assert json.loads((run.path / directory.STATUS_FILE).read_text())["state"] == "running"
    assert not list(run.path.glob(".*.tmp"))


def test_get_run_refuses_paths_outside_the_runs_folder(home):
    for bad in ("../etc", "nope", "a/b"):
        try:
            directory.get_run(bad)
        except UserError as error:
            assert "no run called" in str(error)
        else:
            raise AssertionError(bad)


GARBAGE = (b"[1, 2]", b"\xff\xfe", b"garbage{{", b'{"state": 5, "step": "many", "retries": 3}')


@pytest.mark.parametrize("content", GARBAGE)
def test_a_broken_status_file_reads_as_unreadable_and_is_written_afresh(home, content):
    # Regression: `[1, 2]` in status.json killed the trainer on a TypeError and, through it, the runner.
    run = directory.create_run(RunConfig())
    (run.path / directory.STATUS_FILE).write_bytes(content)
    status = directory.read_status(run.path)
    if content.startswith(b'{"state": 5'):  # an object with wrong types: the defaults stand in for them
        assert (status.state, status.step, status.retries) == ("5", 0, ())
    else:
        assert status.state == directory.UNREADABLE and "status.json" in status.message
    after = directory.update_status(run.path, step=3)
    assert after.step == 3 and after.state in ("running", "5"), "the trainer writes on over the broken file"


def test_every_other_run_file_that_is_garbage_reads_as_empty(home):
    from workbench.runs import record, samples

    run = directory.create_run(RunConfig())
    directory.append_metrics(run.path, {"step": 1, "loss": 2.0})
    with open(run.path / directory.METRICS_FILE, "ab") as handle:
        handle.write(b'{"step": 2, "loss": 1.\xc3')  # half a character appended
    for name in (directory.SCORES_FILE, directory.RECORD_FILE, directory.SAMPLES_FILE):
        (run.path / name).write_bytes(b"\xff\xfe[1, 2]\n")
    assert [record["step"] for record in directory.read_metrics(run.path)] == [1]
    assert held_out_scores.read_scores(run.path) == held_out_scores.Scores()
    assert record.read_record(run.path) == {} and record.record_facts({"started_at": "x", "dataset": 3}) != []
    assert samples.read_samples(run.path) == ([], []) and samples.saved_step(run.path) is None
    (run.path / directory.SAMPLES_FILE).write_text('{"prompts": "no list"}\n[1]\n{"saved_step": "x"}\n')
    assert samples.read_samples(run.path) == ([], []) and samples.saved_step(run.path) is None


def test_a_run_that_cannot_be_written_leaves_no_half_made_folder(home, monkeypatch):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(directory, "write_status", full)
    with pytest.raises(UserError, match="disk is full, so creating the run did not happen"):
        directory.create_run(RunConfig())
    assert list((home / "runs").iterdir()) == []
