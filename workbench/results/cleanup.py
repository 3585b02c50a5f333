"""Freeing disk on a shared server: a finished run's checkpoints, or the whole run.

Checkpoints (weights plus optimizer state, several per run) are most of a run's size and are only needed to resume;
the adapter, metrics and record stay when they go. Deleting a run removes its folder and its job row. Neither is
allowed while the run is queued, running, or being merged, evaluated or judged, and only its owner or an admin may do
either (the same rule as cancel).
"""

import os
import shutil
import uuid

from workbench.errors import UserError
from workbench.jobs import control, queue
from workbench.results import background
from workbench.runs import directory
from workbench.runs.directory import Run
from workbench.team import access, audit
from workbench.team.identity import Actor


def folder_bytes(run: Run, part: str = "") -> int:
    """Bytes on disk of the run folder, or of one part of it (e.g. ``checkpoints``). Files that vanish while it
    counts (a merge replacing its files, another user deleting the run) are skipped."""
    total = 0
    for folder, _, names in os.walk(run.path / part if part else run.path):
        for name in names:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                continue
    return total


def delete_checkpoints(run: Run, actor: Actor | None = None) -> int:
    """Remove the run's checkpoints and return the bytes freed; the run can then no longer be resumed."""
    actor = access.acting(actor)
    _check_idle(run, actor, "delete the checkpoints of")
    freed = folder_bytes(run, directory.CHECKPOINTS_DIR)
    shutil.rmtree(run.path / directory.CHECKPOINTS_DIR, ignore_errors=True)
    audit.record(actor.name, "delete", run.run_id, "checkpoints")
    return freed


def delete_run(run: Run, actor: Actor | None = None) -> int:
    """Remove the run's folder and job row; returns the bytes freed."""
    actor = access.acting(actor)
    _check_idle(run, actor, "delete")
    freed = folder_bytes(run)
    if not queue.forget(run.run_id):  # refused when the job became active since the check (e.g. a resume)
        raise UserError(f"The run {run.run_id} was just queued again; cancel it first if you want to delete it.")
    trash = run.path.with_name(f".deleted-{run.run_id}-{uuid.uuid4().hex[:8]}")
    os.replace(run.path, trash)  # gone from the run list at once; the slow removal happens out of sight
    shutil.rmtree(trash, ignore_errors=True)
    audit.record(actor.name, "delete", run.run_id, "the whole run")
    return freed


def _check_idle(run: Run, actor: Actor, action: str) -> None:
    owner = control.run_owner(run.run_id)
    access.check_see(actor, owner, "run", run.run_id)
    access.check_manage(actor, owner, action)
    job = queue.find_job(run.run_id)
    if job is not None and job.active:
        raise UserError(f"The run {run.run_id} is {job.state}; cancel it or let it finish before you {action} it.")
    background.check_idle(run.path, run.run_id)
