"""Tests for workbench.runs: the run directory as the interface between the app and the training process."""

import json
import time

from workbench import paths, runs
from workbench.config import RunConfig


def test_create_run_writes_config_and_queued_status(home):
    run = runs.create_run(RunConfig(run_name="my pilot/1"))
    assert run.path.parent == home / "runs"
    assert "my-pilot-1" in run.run_id
    assert RunConfig.load(run.path / paths.CONFIG_FILE).run_name == "my pilot/1"
    assert runs.read_status(run.path)["state"] == "queued"


def test_run_ids_stay_unique_within_one_second(home):
    ids = {runs.create_run(RunConfig(run_name="same")).run_id for _ in range(5)}
    assert len(ids) == 5
    assert [run.run_id for run in runs.list_runs()] == sorted(ids, reverse=True)


def test_read_metrics_skips_a_half_written_last_line(home):
    run = runs.create_run(RunConfig())
    runs.append_metrics(run.path, {"step": 1, "loss": 2.0})
    runs.append_metrics(run.path, {"step": 2, "loss": 1.5})
    with open(run.path / paths.METRICS_FILE, "a") as handle:
        handle.write('{"step": 3, "lo')
    assert [record["loss"] for record in runs.read_metrics(run.path)] == [2.0, 1.5]


def test_progress_gives_fraction_and_eta(home):
    run = runs.create_run(RunConfig())
    runs.update_status(run.path, state="running", started_at=time.time() - 10, step=25, max_steps=100, epoch=0.75)
    progress = runs.read_progress(run.path)
    assert progress.fraction == 0.25
    assert 29 <= progress.eta_s <= 31
    assert runs.format_duration(progress.eta_s) in {"0m 29s", "0m 30s", "0m 31s"}


def test_status_file_is_never_half_written(home):
    run = runs.create_run(RunConfig())
    runs.update_status(run.path, state="running", message="x" * 100_000)
    assert json.loads((run.path / paths.STATUS_FILE).read_text())["state"] == "running"
    assert not list(run.path.glob(".*.tmp"))


def test_get_run_refuses_paths_outside_the_runs_folder(home):
    for bad in ("../etc", "nope", "a/b"):
        try:
            runs.get_run(bad)
        except runs.UserError as error:
            assert "no run called" in str(error)
        else:
            raise AssertionError(bad)
