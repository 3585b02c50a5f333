"""What people do with jobs, from the pages and the command line alike: queue a run, cancel it, resume it, share it,
move it to the front.

Each action checks its inputs and its permission here, in the core, so the command line obeys the same rules as the
browser (``workbench.team.access``): a member cancels and resumes only their own runs, an admin anyone's. Every
action is written to the audit log.
"""

import dataclasses
import json
import shutil
import time
from pathlib import Path

from workbench.config import DEMO_DATASET, DEMO_MODEL, RunConfig
from workbench.data import library, sources
from workbench.errors import UserError, disk_space
from workbench.jobs import backend, fairness, queue
from workbench.jobs.queue import Job
from workbench.models import device, loading
from workbench.runs import checkpoints, directory
from workbench.team import access, audit, settings
from workbench.team.identity import Actor
from workbench.training import distributed


def submit(
    config: RunConfig,
    actor: Actor | None = None,
    peak_gb: float | None = None,
    estimate_s: float | None = None,
    browser: bool = False,
    parent: str = "",
) -> Job:
    """Validate the config and its inputs, create its run directory and queue it for ``actor`` (by default the
    command line's user).

    ``peak_gb`` and ``estimate_s`` are the pre-flight estimates of the run's peak GPU memory and duration: with the
    first, the runner may start the run on a GPU that another run is using when the memory free there allows it
    (without it, the run waits its turn alone); the second tells people when queued runs will start. A run queued
    from the ``browser`` may read data only from the library and the server folder. ``parent`` names the run whose
    settings this one started from (Train again), which its results are then compared with.
    """
    actor = access.acting(actor)
    config.check()
    if not config.run_name.strip():
        config = dataclasses.replace(config, run_name=default_run_name(config))
    if browser:
        sources.check_browser_access(config)
    check_inputs(config, actor)
    backend.check_configured(config.backend)
    check_room_in_queue(actor)
    if parent:
        check_see_run(actor, parent)
    run = directory.create_run(config, owner=actor.name, estimated_peak_gb=peak_gb, parent=parent)
    try:
        with disk_space("queuing the run"):
            job = queue.insert(run.run_id, actor.name, peak_gb, estimate_s, config.gpus, config.backend)
    except BaseException:  # a run without a job would never start: take its folder away again
        shutil.rmtree(run.path, ignore_errors=True)
        raise
    audit.record(actor.name, "queue", run.run_id, f"{config.method} on {Path(config.model.rstrip('/')).name}")
    return job


def default_run_name(config: RunConfig) -> str:
    """'demo-llamafactory_identity v2': the model's and the data's names, so runs can be told apart in a list."""
    model = Path(config.model.rstrip("/")).name or "model"
    data = "demo data" if config.dataset.strip() == DEMO_DATASET else sources.dataset_label(config.dataset)
    return f"{model}-{data}"


def check_inputs(config: RunConfig, actor: Actor | None = None) -> None:
    """Refuse a run whose dataset or model cannot be used, before it takes a place in the queue: a missing file or
    folder, a dataset the actor may not see, a model from outside the team's sources, more GPUs than the server has."""
    actor = access.acting(actor)
    for dataset in filter(None, (config.dataset.strip(), config.eval_dataset.strip())):
        library.check_visible(actor, sources.resolve_dataset(dataset))
    if config.model.strip() != DEMO_MODEL:
        access.check_model_source(config.model)
        loading.resolve_model(config.model)
    most, have = device.most_processes(device.gpus())
    if config.backend == "local" and config.gpus > most:  # a cluster's scheduler judges its own GPUs
        raise UserError(f"The run asks for {config.gpus} GPUs and this server has {have}; set GPUs to {most}.")
    sharded = distributed.strategy(config.method, config.gpus) == "fsdp"
    if config.backend == "local" and sharded and not device.gpus():
        raise UserError("Full fine-tuning on several GPUs shards the model (FSDP), which needs GPUs; set GPUs to 1.")


def queue_refusals(actor: Actor) -> list[str]:
    """Why ``actor`` may not queue a run now (over their quota, or their queue cap reached), for the Train page to
    say before Start rather than after; empty when they may."""
    try:
        check_room_in_queue(actor)
    except UserError as refusal:
        return [str(refusal)]
    return []


def check_room_in_queue(actor: Actor) -> None:
    """Refuse one more queued run to a member who already has ``WORKBENCH_MAX_QUEUED`` waiting, or who is over their
    GPU-hour quota."""
    fairness.check_quota(actor.name, actor.admin)
    cap = settings.current().max_queued
    if cap <= 0 or actor.admin:
        return
    waiting = [job for job in queue.list_jobs(("queued",)) if job.owner == actor.name]
    if len(waiting) >= cap:
        raise UserError(
            f"You have {len(waiting)} runs waiting, the most one person may queue here; "
            "cancel one or wait until one starts."
        )


def visible_jobs(actor: Actor, states: tuple[str, ...] | None = None) -> list[Job]:
    """The jobs ``actor`` may see, newest first."""
    return [job for job in queue.list_jobs(states) if access.may_see(actor, job.owner, "run", job.run_id)]


def unseen_active_jobs(actor: Actor) -> int:
    """How many running or waiting jobs ``actor`` may not see: others' private runs, ahead of theirs or not."""
    active = queue.list_jobs(("queued", "starting", "running"))
    return sum(not access.may_see(actor, job.owner, "run", job.run_id) for job in active)


def _job_for(run_id: str, actor: Actor) -> Job:
    """The run's job, if ``actor`` may see it; a run they may not see reads as one that does not exist."""
    job = queue.get_job(run_id)
    access.check_see(actor, job.owner, "run", run_id)
    return job


def request_cancel(run_id: str, actor: Actor | None = None) -> Job:
    """Cancel a job: at once when queued, through the runner when started; cancelling it again is harmless,
    cancelling a run that has ended otherwise is a UserError. Only the run's owner or an admin may."""
    actor = access.acting(actor)
    job = _job_for(run_id, actor)
    access.check_manage(actor, job.owner, "cancel")
    if job.state == "cancelled":
        return job  # twice is harmless
    if not job.active:
        raise UserError(f"The run {run_id} has already {_ended(job.state)}; there is nothing to cancel.")
    job = queue.cancel(run_id)
    if job.state == "cancelled" and job.started_at is None:
        run = directory.get_run(run_id)
        directory.update_status(run.path, state="cancelled", message="Cancelled before it started.")
    audit.record(actor.name, "cancel", run_id)
    return job


def _ended(state: str) -> str:
    return {"succeeded": "finished"}.get(state, state)


def resume(run_id: str, actor: Actor | None = None) -> Job:
    """Queue a failed, interrupted or cancelled run again, to continue from its last sealed checkpoint.
    Only the run's owner or an admin may."""
    actor = access.acting(actor)
    job = _job_for(run_id, actor)
    access.check_manage(actor, job.owner, "resume")
    if job.state not in queue.RESUMABLE_STATES:
        raise UserError(f"The run {run_id} is {job.state}; only failed, interrupted or cancelled runs can be resumed.")
    check_room_in_queue(actor)
    run = directory.get_run(run_id)
    checkpoint = checkpoints.latest_checkpoint(run.path)
    if checkpoint is None:
        raise UserError(f"The run {run_id} has no complete checkpoint to resume from; start it again instead.")
    (run.path / directory.RESUME_FILE).write_text(json.dumps({"checkpoint": checkpoint.name}), encoding="utf-8")
    job = queue.queue_again(run_id)
    message = f"Queued to resume from {checkpoint.name}."
    directory.update_status(run.path, state="queued", message=message, finished_at=None, queued_at=time.time())
    audit.record(actor.name, "resume", run_id, checkpoint.name)
    return job


def move_to_front(run_id: str, actor: Actor, front: bool = True) -> Job:
    """An admin moves a queued job before every job not moved (or back into the fair order)."""
    if not actor.admin:
        raise UserError("Only an admin can move a run to the front of the queue.")
    job = queue.get_job(run_id)
    if job.state != "queued":
        raise UserError(f"The run {run_id} is {job.state}; only a waiting run can be moved.")
    queue.set_priority(run_id, 1 if front else 0)
    audit.record(actor.name, "priority", run_id, "to the front" if front else "back in the fair order")
    return queue.get_job(run_id)


def share(run_id: str, actor: Actor, shared: bool = True) -> None:
    """Share a run (its adapter, scores and answers) with the team, or stop sharing it."""
    owner = run_owner(run_id)
    access.check_see(actor, owner, "run", run_id)
    access.set_shared(actor, "run", run_id, owner, shared)


def run_owner(run_id: str) -> str:
    """Who started a run: its job's owner, or for a run without a job (an imported adapter) its status's owner."""
    job = queue.find_job(run_id)
    return job.owner if job else directory.read_status(directory.get_run(run_id).path).owner


def may_see_run(actor: Actor, run_id: str) -> bool:
    return access.may_see(actor, run_owner(run_id), "run", run_id)


def check_see_run(actor: Actor | None, run_id: str) -> None:
    """Refuse a run ``actor`` may not see as if it did not exist."""
    access.check_see(access.acting(actor), run_owner(run_id), "run", run_id)


def visible_runs(actor: Actor) -> list[directory.Run]:
    """Every run folder ``actor`` may see, newest first."""
    owners = {job.run_id: job.owner for job in queue.list_jobs()}
    return [
        run
        for run in directory.list_runs()
        if access.may_see(actor, owners.get(run.run_id) or directory.read_status(run.path).owner, "run", run.run_id)
    ]
