"""A real full disk (a small tmpfs mounted for the test) under a training run, an upload and a submit: the disk is
named in the run's message, the runner lives on, and no half-made run or dataset is left. Where the test may not
mount a filesystem it is skipped; tests/training/test_faults.py covers the same handling through the fault seam."""

import errno
import subprocess
from pathlib import Path

import pytest
from conftest import link_demo_model, start_runner, stop_process, wait_for

from workbench.data import uploads
from workbench.errors import UserError
from workbench.jobs import control, processes, queue
from workbench.models.demo_task import DEMO_TRAIN_FILE
from workbench.planning import presets
from workbench.runs import directory


@pytest.fixture
def small_home(tmp_path, demo_model_dir, monkeypatch):
    """A data folder on its own 8 MB filesystem, the demo model linked in from outside it."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.decode().strip()})")
    home = mount / "workbench-home"
    home.mkdir()
    link_demo_model(home, demo_model_dir)
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    yield home
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the filesystem is full; returns it (delete it to free the space)."""
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(bytes(64 * 1024))
                handle.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_a_disk_that_fills_during_training_is_named_and_the_runner_lives_on(small_home):
    # Regression: the trainer died at the checkpoint write, its final status write failed, the runner died on
    # SQLite's "disk I/O error", and "disk full" was never said.
    runner = start_runner(small_home, idle_exit=60)
    try:
        config = presets.demo_config(dataset=str(DEMO_TRAIN_FILE), num_train_epochs=3, save_steps=2, eval_steps=50)
        job = control.submit(config)
        run_dir = directory.run_dir(job.run_id)
        wait_for(lambda: directory.read_status(run_dir).step >= 1, timeout=120, what="the first step")
        started = queue.get_job(job.run_id)
        filler = fill(small_home)
        wait_for(lambda: not processes.group_alive(started.pid, started.proc_start), timeout=180, what="the end")
        assert runner.poll() is None, "the runner lives through the full disk"
        filler.unlink()  # space comes back: the runner records how the job ended
        wait_for(lambda: not queue.get_job(job.run_id).active, timeout=60, what="the job to be recorded")
        ended = queue.get_job(job.run_id)
        assert ended.state == "failed" and ended.error.startswith("The disk is full"), ended.error
        status = directory.read_status(run_dir)
        assert status.failure == "disk_full" and status.message.startswith("The disk is full")
        assert runner.poll() is None
    finally:
        stop_process(runner)


def test_a_submit_or_an_upload_on_a_full_disk_says_so_and_leaves_nothing_half_made(small_home):
    directory.run_dir("x").parent.mkdir(exist_ok=True)
    filler = fill(small_home)
    with pytest.raises(UserError, match="The server's disk is full, so creating the run did not happen"):
        control.submit(presets.demo_config())
    with pytest.raises(UserError, match="disk is full, so the job list cannot be used"):
        queue.list_jobs()  # what the Runs page and `workbench jobs list` say, instead of SQLite's traceback
    with pytest.raises(UserError, match="The server's disk is full, so saving the upload did not happen"):
        uploads.save_upload("chats.jsonl", b"x" * 200_000)
    assert list((small_home / "runs").iterdir()) == []
    assert not [path for path in (small_home / "datasets").iterdir() if path.is_file()]
    filler.unlink()
    assert control.submit(presets.demo_config()).state == "queued", "with space again all works"
