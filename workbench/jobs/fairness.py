"""The order queued jobs start in, fair between people, and when each is likely to start.

Jobs an admin moved to the front start first (oldest first). The rest go round-robin between owners: everyone's
first waiting job before anyone's second, and within a round, whoever has waited longest since their last job
started goes first. So one person's ten queued runs never hold back a colleague's one. A user over their GPU-hour
quota (``WORKBENCH_GPU_HOURS`` within ``WORKBENCH_QUOTA_DAYS``; admins have none) keeps their place in no round
until their use in the window falls under it. The expected start times follow the pre-flight estimates of the jobs
running and ahead, on as many devices as the server has.
"""

import time
from dataclasses import dataclass
from typing import Any

from workbench import words
from workbench.errors import UserError
from workbench.jobs import backend, queue
from workbench.jobs.queue import Job
from workbench.team import settings, users


@dataclass(frozen=True)
class Place:
    """Where a queued job stands."""

    position: int | None  # 1: starts next; None: it waits for its owner's quota
    starts_in_s: float | None  # None when a job ahead has no time estimate, or it waits for a quota
    note: str = ""  # why it waits, when it is not its turn that keeps it


def order(queued: list[Job], last_start: dict[str, float]) -> list[Job]:
    """The queued jobs in the order they will start (see the module docstring); ``last_start`` gives, per owner,
    when their latest job started (an owner missing from it has never had one)."""
    first = sorted((job for job in queued if job.priority > 0), key=lambda job: (-job.priority, job.id))
    by_owner: dict[str, list[Job]] = {}
    for job in sorted((job for job in queued if job.priority <= 0), key=lambda job: job.id):
        by_owner.setdefault(job.owner, []).append(job)
    rounds = [
        (turn, last_start.get(owner, 0.0), jobs[0].id, job)
        for owner, jobs in by_owner.items()
        for turn, job in enumerate(jobs)
    ]
    return first + [job for *_, job in sorted(rounds, key=lambda entry: entry[:3])]


def over_quota() -> dict[str, str]:
    """Owners who are over their GPU-hour quota now, each with a sentence that says so and until when."""
    limits = settings.current()
    if limits.gpu_hours <= 0:
        return {}
    used = queue.device_hours(time.time() - limits.quota_days * 86400)
    return {
        owner: f"Waiting: {quota_sentence(owner, hours)}"
        for owner, hours in used.items()
        if hours >= limits.gpu_hours and users.role_of(owner) != "admin"
    }


def quota_sentence(owner: str, hours: float) -> str:
    limits = settings.current()
    return (
        f"{owner} has used {hours:.1f} of {limits.gpu_hours:g} GPU-hours in the last "
        f"{words.days(limits.quota_days)}, the quota here; enough of that use leaves the window at "
        f"{words.clock(quota_frees_at(owner))}"
    )


def quota_frees_at(owner: str, now: float | None = None) -> float:
    """When ``owner``'s use within the window falls under the quota, if they start nothing new (running attempts
    counted as ending now)."""
    limits = settings.current()
    now = time.time() if now is None else now
    window = limits.quota_days * 86400
    spans = [(start, end, gpus) for who, start, end, gpus in queue.usage_intervals(now - window) if who == owner]

    def hours_at(moment: float) -> float:
        return sum(max(0.0, end - max(start, moment - window)) * gpus for start, end, gpus in spans) / 3600

    early, late = now, now + window
    for _ in range(40):  # the use in the window only falls as it slides on: halve the interval
        middle = (early + late) / 2
        early, late = (middle, late) if hours_at(middle) >= limits.gpu_hours else (early, middle)
    return late


def check_quota(owner: str, admin: bool) -> None:
    """Refuse a new run to a member who is over their GPU-hour quota, saying when they may start runs again."""
    limits = settings.current()
    if limits.gpu_hours <= 0 or admin:
        return
    used = queue.device_hours(time.time() - limits.quota_days * 86400).get(owner, 0.0)
    if used >= limits.gpu_hours:
        raise UserError(f"You cannot start more runs now: {quota_sentence(owner, used)}; ask an admin for more.")


def _last_starts(jobs: list[Job]) -> dict[str, float]:
    starts: dict[str, float] = {}
    for job in jobs:
        if job.started_at is not None:
            starts[job.owner] = max(starts.get(job.owner, 0.0), job.started_at)
    return starts


def fair_queue() -> tuple[list[Job], dict[str, str]]:
    """The startable queued jobs in order, and the owners held back by their quota (with why)."""
    everyone = queue.list_jobs()
    held = over_quota()
    queued = [job for job in everyone if job.state == "queued" and job.owner not in held]
    return order(queued, _last_starts(everyone)), held


def next_job() -> Job | None:
    """The job the runner starts next, if any may start."""
    ordered, _ = fair_queue()
    return ordered[0] if ordered else None


def places(slots: int = 1, now: float | None = None) -> dict[str, Place]:
    """Every queued job's place and expected start, with ``slots`` devices (GPUs; 1 on a CPU)."""
    now = time.time() if now is None else now
    ordered, held = fair_queue()
    free_at = _slot_times(queue.list_jobs(("starting", "running")), max(1, slots), now)
    found = {}
    for position, job in enumerate(ordered, start=1):
        need = min(max(1, job.gpus), len(free_at))
        start = None if None in free_at[:need] else max(free_at[:need])
        found[job.run_id] = Place(position, None if start is None else max(0.0, start - now))
        ends = None if start is None or job.estimate_s is None else start + job.estimate_s
        free_at = sorted(free_at[need:] + [ends] * need, key=_unknown_last)
    for job in queue.list_jobs(("queued",)):
        if job.owner in held:
            found[job.run_id] = Place(None, None, held[job.owner])
    return found


def _slot_times(running: list[Job], slots: int, now: float) -> list[float | None]:
    """When each device is free, soonest first (None: held by a job without an estimate)."""
    times: list[float | None] = []
    for job in running:
        if job.estimate_s is None or job.started_at is None:
            ends = None
        else:
            ends = max(now, job.started_at + job.estimate_s)
        times += [ends] * max(1, job.gpus)
    times = sorted(times, key=_unknown_last)[:slots]
    return sorted(times + [now] * (slots - len(times)), key=_unknown_last)


def _unknown_last(value: float | None) -> float:
    return float("inf") if value is None else value


def queue_position(run_id: str) -> int | None:
    """1 for the next job to start; None when the job is not queued or waits for a quota."""
    place = places().get(run_id)
    return place.position if place else None


def queue_rows(listed: list[Job], slots: int = 1) -> list[dict[str, Any]]:
    """The job table as people read it (the Runs page and ``workbench jobs list``): place in the queue, expected
    start, who, when."""
    found = places(slots)
    return [_row(job, found.get(job.run_id)) for job in listed]


def _row(job: Job, place: Place | None) -> dict[str, Any]:
    if place is None:
        position, starts = "", ""
    elif place.position is None:
        position, starts = "quota", "when under quota"
    else:
        position = str(place.position)
        starts = "now" if place.starts_in_s == 0 else f"in {words.format_duration(place.starts_in_s)}"
        starts = starts if place.starts_in_s is not None else "after the runs ahead"
    return {
        "run": job.run_id,
        "state": job.state,
        "position": position,
        "expected start": starts,
        "owner": job.owner,
        "queued at": words.clock(job.created_at),
        "started at": words.clock(job.started_at),
        "runs on": backend.where(job),
        "GPUs": job.devices or (str(job.gpus) if job.gpus > 1 else ""),
        "memory estimate (GB)": f"{job.peak_gb:.1f}" if job.peak_gb is not None else "none made",
        "attempt": job.attempt,
    }


def holders() -> list[str]:
    """Who holds the devices now: the owners of the running jobs, without repeats."""
    return list(dict.fromkeys(job.owner for job in queue.list_jobs(("starting", "running"))))


def usage(days: float | None = None) -> tuple[dict[str, float], float, float]:
    """Device-hours per user over the quota window (or ``days``), with the window and the quota (0: none)."""
    limits = settings.current()
    window = limits.quota_days if days is None else days
    return queue.device_hours(time.time() - window * 86400), window, limits.gpu_hours
