"""What people do with jobs, from the pages and the command line alike: queue a run, cancel it, resume it.

Each action checks its inputs and its permission here, in the core, so the command line obeys the same rules as the
browser: only a run's owner or an admin may cancel or resume it (``user=None`` is the command line on the server).
"""

import dataclasses
import json
import shutil
from pathlib import Path

from workbench import people
from workbench.config import DEMO_DATASET, DEMO_MODEL, RunConfig
from workbench.data import sources
from workbench.errors import UserError, disk_space
from workbench.jobs import queue
from workbench.jobs.queue import Job
from workbench.models import loading
from workbench.runs import checkpoints, directory


def submit(config: RunConfig, owner: str | None = None, peak_gb: float | None = None, browser: bool = False) -> Job:
    """Validate the config and its inputs, create its run directory and queue it.

    ``peak_gb`` is the pre-flight estimate of the run's peak GPU memory: with it, the runner may start the run on a
    GPU that another run is using, when the memory free there allows it; without it, the run waits its turn alone.
    The run directory carries it to the training process, which records it beside the measured peak. A run queued
    from the ``browser`` may read data only from the library and the server folder.
    """
    config.check()
    if not config.run_name.strip():
        config = dataclasses.replace(config, run_name=default_run_name(config))
    if browser:
        sources.check_browser_access(config)
    check_inputs(config)
    owner = owner or people.server_user()
    run = directory.create_run(config, owner=owner, estimated_peak_gb=peak_gb)
    try:
        with disk_space("queuing the run"):
            return queue.insert(run.run_id, owner, peak_gb)
    except BaseException:  # a run without a job would never start: take its folder away again
        shutil.rmtree(run.path, ignore_errors=True)
        raise


def default_run_name(config: RunConfig) -> str:
    """'demo-llamafactory_identity v2': the model's and the data's names, so runs can be told apart in a list."""
    model = Path(config.model.rstrip("/")).name or "model"
    data = "demo data" if config.dataset.strip() == DEMO_DATASET else sources.dataset_label(config.dataset)
    return f"{model}-{data}"


def check_inputs(config: RunConfig) -> None:
    """Refuse a run whose dataset or model folder is missing, before it takes a place in the queue."""
    sources.resolve_dataset(config.dataset)
    if config.eval_dataset.strip():
        sources.resolve_dataset(config.eval_dataset)
    if config.model.strip() != DEMO_MODEL:
        loading.resolve_model(config.model)


def request_cancel(run_id: str, user: str | None = None) -> Job:
    """Cancel a job: at once when queued, through the runner when started; cancelling it again is harmless,
    cancelling a run that has ended otherwise is a UserError.
    With ``user``, only the run's owner or an admin may cancel it."""
    job = queue.get_job(run_id)
    people.check_control(job.owner, user, "cancel")
    if job.state == "cancelled":
        return job  # twice is harmless
    if not job.active:
        raise UserError(f"The run {run_id} has already {_ended(job.state)}; there is nothing to cancel.")
    job = queue.cancel(run_id)
    if job.state == "cancelled" and job.started_at is None:
        run = directory.get_run(run_id)
        directory.update_status(run.path, state="cancelled", message="Cancelled before it started.")
    return job


def _ended(state: str) -> str:
    return {"succeeded": "finished"}.get(state, state)


def resume(run_id: str, user: str | None = None) -> Job:
    """Queue a failed, interrupted or cancelled run again, to continue from its last sealed checkpoint.
    With ``user``, only the run's owner or an admin may resume it."""
    job = queue.get_job(run_id)
    people.check_control(job.owner, user, "resume")
    if job.state not in queue.RESUMABLE_STATES:
        raise UserError(f"The run {run_id} is {job.state}; only failed, interrupted or cancelled runs can be resumed.")
    run = directory.get_run(run_id)
    checkpoint = checkpoints.latest_checkpoint(run.path)
    if checkpoint is None:
        raise UserError(f"The run {run_id} has no complete checkpoint to resume from; start it again instead.")
    (run.path / directory.RESUME_FILE).write_text(json.dumps({"checkpoint": checkpoint.name}), encoding="utf-8")
    job = queue.queue_again(run_id)
    message = f"Queued to resume from {checkpoint.name}."
    directory.update_status(run.path, state="queued", message=message, finished_at=None)
    return job
