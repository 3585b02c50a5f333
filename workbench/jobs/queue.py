"""The job queue: a SQLite table of training jobs that outlives the browser, the web server and the runner.

Every statement on the table is here. The web app and the command line add jobs and ask for cancellation through
``workbench.jobs.control``; the runner (``workbench.jobs.runner``) claims queued jobs and records how they end.
States: queued, starting, running, succeeded, failed, cancelled, interrupted. A job sent to a cluster backend is
'starting' while it waits in the cluster's own queue.
"""

import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass

from workbench import database, paths
from workbench.errors import UserError


ACTIVE_STATES = ("queued", "starting", "running")
RESUMABLE_STATES = ("failed", "interrupted", "cancelled")
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    pid INTEGER,
    proc_start TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    error TEXT NOT NULL DEFAULT '',
    attempt INTEGER NOT NULL DEFAULT 1,
    peak_gb REAL,
    estimate_s REAL,
    gpus INTEGER NOT NULL DEFAULT 1,
    priority INTEGER NOT NULL DEFAULT 0,
    devices TEXT NOT NULL DEFAULT '',
    backend TEXT NOT NULL DEFAULT 'local',
    backend_job TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS usage (
    run_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    gpus INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_owner ON usage (owner, finished_at);
"""
# Columns added after the first release, for job databases created before them.
ADDED_COLUMNS = {
    "peak_gb": "REAL",
    "estimate_s": "REAL",
    "gpus": "INTEGER NOT NULL DEFAULT 1",
    "priority": "INTEGER NOT NULL DEFAULT 0",
    "devices": "TEXT NOT NULL DEFAULT ''",
    "backend": "TEXT NOT NULL DEFAULT 'local'",
    "backend_job": "TEXT NOT NULL DEFAULT ''",
}


@dataclass
class Job:
    """One row of the jobs table."""

    id: int
    run_id: str
    state: str
    owner: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    pid: int | None
    proc_start: str | None
    cancel_requested: int
    exit_code: int | None
    error: str
    attempt: int
    peak_gb: float | None = None  # the pre-flight estimate of peak memory; None when none was made
    estimate_s: float | None = None  # the pre-flight estimate of its duration
    gpus: int = 1  # how many GPUs it asked for
    priority: int = 0  # raised by an admin: starts before every job without it
    devices: str = ""  # the GPUs the runner gave it (CUDA_VISIBLE_DEVICES), while it runs
    backend: str = "local"  # where it runs: this server ('local') or a cluster backend ('slurm', 'ray')
    backend_job: str = ""  # the backend's own id of the current attempt (a Slurm job id, a Ray submission id)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


def connect() -> AbstractContextManager[sqlite3.Connection]:
    """A short-lived connection to the job table (see ``workbench.database.connect``)."""
    return database.connect(paths.jobs_db_path(), SCHEMA, "the job list", {"jobs": ADDED_COLUMNS})


def _job(row: sqlite3.Row | None) -> Job | None:
    return Job(**dict(row)) if row is not None else None


def insert(
    run_id: str,
    owner: str,
    peak_gb: float | None,
    estimate_s: float | None = None,
    gpus: int = 1,
    backend: str = "local",
) -> Job:
    """Add a queued job for a run folder that already exists."""
    with connect() as db:
        db.execute(
            "INSERT INTO jobs (run_id, state, owner, created_at, peak_gb, estimate_s, gpus, backend) "
            "VALUES (?, 'queued', ?, ?, ?, ?, ?, ?)",
            (run_id, owner, time.time(), peak_gb, estimate_s, gpus, backend),
        )
    return get_job(run_id)


def find_job(run_id: str) -> Job | None:
    """The job of a run, or None for a run that never got one (its submission failed half-way)."""
    with connect() as db:
        return _job(db.execute("SELECT * FROM jobs WHERE run_id = ?", (run_id,)).fetchone())


def get_job(run_id: str) -> Job:
    job = find_job(run_id)
    if job is None:
        raise UserError(f"There is no job for run '{run_id}'; pick one from the Runs page.")
    return job


def list_jobs(states: tuple[str, ...] | None = None) -> list[Job]:
    """Jobs, newest first, optionally only those in ``states``."""
    with connect() as db:
        rows = db.execute("SELECT * FROM jobs ORDER BY id DESC").fetchall()
    jobs = [_job(row) for row in rows]
    return [job for job in jobs if states is None or job.state in states]


def running_estimate_gb() -> tuple[int, float]:
    """How many jobs are running now, and the sum of their peak-memory estimates (0 for those without one)."""
    started = list_jobs(("starting", "running"))
    return len(started), round(sum(job.peak_gb or 0.0 for job in started), 2)


def claim(job_id: int, devices: str = "") -> Job | None:
    """Atomically move this job to 'starting' on these GPUs if it is still queued; None when it no longer is."""
    with connect() as db:
        row = db.execute(
            "UPDATE jobs SET state='starting', started_at=?, devices=? WHERE id=? AND state='queued' RETURNING *",
            (time.time(), devices, job_id),
        ).fetchone()
    return _job(row)


def mark_running(run_id: str, pid: int, proc_start: str) -> None:
    with connect() as db:
        db.execute("UPDATE jobs SET state='running', pid=?, proc_start=? WHERE run_id=?", (pid, proc_start, run_id))


def mark_submitted(run_id: str, backend_job: str) -> None:
    """A cluster backend took the job as ``backend_job``; it stays 'starting' until the cluster runs it."""
    with connect() as db:
        db.execute("UPDATE jobs SET backend_job=? WHERE run_id=?", (backend_job, run_id))


def mark_cluster_state(run_id: str, state: str) -> None:
    """A cluster job started ('running') or went back to the cluster's queue ('starting': requeued, preempted)."""
    with connect() as db:
        db.execute("UPDATE jobs SET state=? WHERE run_id=? AND state IN ('starting','running')", (state, run_id))


def mark_finished(run_id: str, state: str, exit_code: int | None = None, error: str = "") -> None:
    """Record how a job ended and, when it had started, the device time this attempt took (for quotas)."""
    now = time.time()
    with connect() as db:
        row = db.execute(
            "UPDATE jobs SET state=?, finished_at=?, exit_code=?, error=?, devices='' WHERE run_id=? "
            "RETURNING owner, started_at, gpus",
            (state, now, exit_code, error, run_id),
        ).fetchone()
        if row is not None and row["started_at"] is not None:
            db.execute(
                "INSERT INTO usage (run_id, owner, started_at, finished_at, gpus) VALUES (?, ?, ?, ?, ?)",
                (run_id, row["owner"], row["started_at"], now, row["gpus"]),
            )


def set_priority(run_id: str, priority: int) -> None:
    with connect() as db:
        db.execute("UPDATE jobs SET priority=? WHERE run_id=?", (priority, run_id))


def usage_intervals(since: float) -> list[tuple[str, float, float, int]]:
    """(owner, started, ended, GPUs) of every attempt that ran after ``since``: the ended ones from the usage table
    and the running ones until now."""
    now = time.time()
    with connect() as db:
        ended = db.execute(
            "SELECT owner, started_at, finished_at, gpus FROM usage WHERE finished_at > ?", (since,)
        ).fetchall()
        running = db.execute(
            "SELECT owner, started_at, ? AS finished_at, gpus FROM jobs "
            "WHERE state IN ('starting','running') AND started_at IS NOT NULL",
            (now,),
        ).fetchall()
    return [(row["owner"], row["started_at"], row["finished_at"], row["gpus"]) for row in [*ended, *running]]


def device_hours(since: float) -> dict[str, float]:
    """Device-hours (GPU-hours on a GPU server) each owner used since ``since``, each attempt times its GPUs."""
    hours: dict[str, float] = {}
    for owner, started, ended, gpus in usage_intervals(since):
        hours[owner] = hours.get(owner, 0.0) + max(0.0, ended - max(started, since)) * gpus / 3600
    return hours


def cancel(run_id: str) -> Job:
    """A queued job is cancelled at once; a started one is marked for the runner to stop. Twice is harmless."""
    with connect() as db:
        db.execute(
            "UPDATE jobs SET state='cancelled', finished_at=? WHERE run_id=? AND state='queued'", (time.time(), run_id)
        )
        db.execute("UPDATE jobs SET cancel_requested=1 WHERE run_id=? AND state IN ('starting','running')", (run_id,))
    return get_job(run_id)


def queue_again(run_id: str) -> Job:
    """Put a finished job back in the queue as its next attempt."""
    with connect() as db:
        db.execute(
            "UPDATE jobs SET state='queued', attempt=attempt+1, cancel_requested=0, pid=NULL, proc_start=NULL, "
            "exit_code=NULL, error='', started_at=NULL, finished_at=NULL, devices='', backend_job='' WHERE run_id=?",
            (run_id,),
        )
    return get_job(run_id)


def requeue_unstarted(run_id: str) -> None:
    """Return a job that was claimed but never got a process (the runner stopped in between) to the queue."""
    with connect() as db:
        db.execute(
            "UPDATE jobs SET state='queued', started_at=NULL, devices='' WHERE run_id=? AND pid IS NULL "
            "AND backend_job=''",
            (run_id,),
        )


def forget(run_id: str) -> bool:
    """Remove a finished job's row (its run is being deleted); False when the job is active, or became so."""
    with connect() as db:
        db.execute("DELETE FROM jobs WHERE run_id=? AND state NOT IN ('queued','starting','running')", (run_id,))
        remaining = db.execute("SELECT COUNT(*) FROM jobs WHERE run_id=?", (run_id,)).fetchone()[0]
    return remaining == 0
