"""Tests for workbench.checkpoints: only sealed, unchanged checkpoints of the same run are offered for resume."""

from workbench.runs import checkpoints, directory


def make_checkpoint(run_dir, step, sealed=True):
    folder = run_dir / directory.CHECKPOINTS_DIR / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "optimizer.pt").write_bytes(b"state %d" % step)
    (folder / "trainer_state.json").write_text("{}")
    if sealed:
        checkpoints.seal(folder, run_dir.name)
    return folder


def test_latest_sealed_checkpoint_wins(tmp_path):
    run_dir = tmp_path / "run-a"
    make_checkpoint(run_dir, 5)
    make_checkpoint(run_dir, 10)
    make_checkpoint(run_dir, 15, sealed=False)
    assert checkpoints.latest_checkpoint(run_dir).name == "checkpoint-10"


def test_a_changed_or_foreign_checkpoint_is_refused(tmp_path):
    run_dir = tmp_path / "run-a"
    changed = make_checkpoint(run_dir, 5)
    (changed / "optimizer.pt").write_bytes(b"tampered")
    assert not checkpoints.is_sealed(changed, "run-a")
    added = make_checkpoint(run_dir, 6)
    (added / "extra.pt").write_bytes(b"x")
    assert not checkpoints.is_sealed(added, "run-a")
    foreign = make_checkpoint(tmp_path / "run-b", 7)
    assert checkpoints.is_sealed(foreign, "run-b") and not checkpoints.is_sealed(foreign, "run-a")
    assert checkpoints.latest_checkpoint(run_dir) is None


def test_no_checkpoint_folder_means_nothing_to_resume(tmp_path):
    assert checkpoints.latest_checkpoint(tmp_path) is None
