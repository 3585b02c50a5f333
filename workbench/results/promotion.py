"""Checkpoints as results: what each saved checkpoint of a run is (its step, its losses, its evaluation), promoting
one to be the run's model, and going back to the model training saved at its end.

Promoting copies the checkpoint's weights into the run's ``adapter/`` folder, which every reader already uses (the
Playground and the API through the model server, the adapter download, the merge), and moves the adapter training
saved to ``adapter-final/`` the first time, so it is never lost. ``promoted.json`` records which step answers. The
copy keeps the final adapter's tokenizer and prompt format, which the checkpoints were trained with too. A merge
made before is then outdated (its record compares the adapter files) and the Runs page says to merge again.
"""

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from workbench.data.uploads import write_atomically
from workbench.errors import UserError, disk_space
from workbench.jobs import control, queue
from workbench.results import background
from workbench.runs import checkpoints, directory
from workbench.runs.directory import FINAL_ADAPTER_DIR, PROMOTED_FILE, Run
from workbench.team import access, audit
from workbench.team.identity import Actor


WEIGHT_FILES = ("*.safetensors", "*.safetensors.index.json", "adapter_config.json", "config.json")
LEFT_BEHIND = ("*.bin", "*.pt", "*.pth")  # optimizer and trainer state, and pickled weights: never copied


@dataclass(frozen=True)
class SavedModel:
    """One checkpoint as a result: its step, the epoch it ended, the losses logged at that step (None when none
    was), and whether it is the run's model now."""

    step: int
    epoch: float | None
    train_loss: float | None
    eval_loss: float | None
    promoted: bool

    @property
    def label(self) -> str:
        return f"checkpoint {self.step}"


def saved_models(run: Run) -> list[SavedModel]:
    """The run's checkpoints that can answer, oldest first, with what the metrics say about each."""
    at_step: dict[int, dict] = {}
    for record in directory.read_metrics(run.path):
        if isinstance(record.get("step"), int):
            at_step.setdefault(record["step"], {}).update(record)
    promoted = checkpoints.promoted_step(run.path)
    listed = []
    for folder in checkpoints.saved_models(run.path):
        step = checkpoints.checkpoint_step(folder)
        logged = at_step.get(step, {})
        epoch, promoted_here = _number(logged.get("epoch")), step == promoted
        listed.append(SavedModel(step, epoch, _loss(logged, "loss"), _loss(logged, "eval_loss"), promoted_here))
    return listed


def promote(run_id: str, step: int, actor: Actor | None = None) -> None:
    """Make the checkpoint of ``step`` the run's model for chat, download and merge (its owner or an admin)."""
    run = _changeable(run_id, actor)
    source = checkpoints.saved_model(run.path, step)
    if source is None:
        raise UserError(f"The run {run_id} has no saved checkpoint at step {step}; pick one the Runs page lists.")
    staging = run.path / f".adapter.{uuid.uuid4().hex[:8]}.partial"
    try:
        with disk_space("promoting the checkpoint"):
            _copy_model(source, _final_dir(run), staging)
            _swap_in(run, staging)
            write_atomically(run.path / PROMOTED_FILE, json.dumps({"step": step, "at": time.time()}).encode())
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    audit.record(access.acting(actor).name, "promote", run_id, f"checkpoint {step}")


def restore_final(run_id: str, actor: Actor | None = None) -> None:
    """Make the model training saved at its end the run's model again (undoing a promotion)."""
    run = _changeable(run_id, actor)
    final = run.path / FINAL_ADAPTER_DIR
    if not final.is_dir():
        raise UserError(f"The run {run_id} already answers with the model its training saved at the end.")
    replaced = run.path / f".adapter.{uuid.uuid4().hex[:8]}.old"
    os.replace(run.adapter_dir, replaced)
    os.replace(final, run.adapter_dir)
    (run.path / PROMOTED_FILE).unlink(missing_ok=True)
    shutil.rmtree(replaced, ignore_errors=True)
    audit.record(access.acting(actor).name, "promote", run_id, "the final model")


def promoted_sentence(run: Run) -> str | None:
    """'Answers with checkpoint 120, promoted ...' for a run whose model is a checkpoint; None otherwise."""
    step = checkpoints.promoted_step(run.path)
    if step is None:
        return None
    return (
        f"This run answers with checkpoint {step}, promoted from its checkpoints: the Playground, the API, the "
        "download and the merge all use it. The model training saved at the end is kept."
    )


def _changeable(run_id: str, actor: Actor | None) -> Run:
    actor = access.acting(actor)
    control.check_see_run(actor, run_id)
    access.check_manage(actor, control.run_owner(run_id), "change the model of")
    run = directory.get_run(run_id)
    job = queue.find_job(run_id)
    if job is not None and job.active:
        raise UserError(f"The run {run_id} is {job.state}; promote a checkpoint once it has finished.")
    background.check_idle(run.path, run.run_id)
    if not run.has_output:
        raise UserError(f"The run {run_id} has no trained model yet; promote a checkpoint once it has succeeded.")
    return run


def _final_dir(run: Run) -> Path:
    """Where the final adapter is: still ``adapter/`` before the first promotion, ``adapter-final/`` after."""
    kept = run.path / FINAL_ADAPTER_DIR
    return kept if kept.is_dir() else run.adapter_dir


def _copy_model(checkpoint: Path, final: Path, staging: Path) -> None:
    """The final adapter's tokenizer and prompt format, with the checkpoint's weights in place of its own."""
    staging.mkdir()
    for file in final.iterdir():
        if file.is_file() and not _matches(file, WEIGHT_FILES + LEFT_BEHIND):
            shutil.copy2(file, staging / file.name)
    for file in checkpoint.iterdir():
        if file.is_file() and _matches(file, WEIGHT_FILES):
            shutil.copy2(file, staging / file.name)


def _swap_in(run: Run, staging: Path) -> None:
    kept = run.path / FINAL_ADAPTER_DIR
    if kept.is_dir():  # already promoted: the adapter folder is a copy, replaced
        replaced = run.path / f".adapter.{uuid.uuid4().hex[:8]}.old"
        os.replace(run.adapter_dir, replaced)
        os.replace(staging, run.adapter_dir)
        shutil.rmtree(replaced, ignore_errors=True)
    else:
        os.replace(run.adapter_dir, kept)
        os.replace(staging, run.adapter_dir)


def _matches(file: Path, patterns: tuple[str, ...]) -> bool:
    return any(file.match(pattern) for pattern in patterns)


def _loss(record: dict, key: str) -> float | None:
    value = _number(record.get(key))
    return round(value, 4) if value is not None else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
