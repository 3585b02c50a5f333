"""The job queue: a SQLite table of training jobs that outlives the browser, the web server and the runner.

Every statement on the table is here. The web app and the command line add jobs and ask for cancellation through
``workbench.jobs.control``; the runner (``workbench.jobs.runner``) claims queued jobs and records how they end.
States: queued, starting, running, succeeded, failed, cancelled, interrupted.
"""

import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from workbench import paths, words
from workbench.errors import DISK_FULL_FIX, UserError, is_disk_full


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
    peak_gb REAL
)
"""
# Columns added after the first release, for job databases created before them.
ADDED_COLUMNS = {"peak_gb": "REAL"}


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

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


@contextmanager
def connect() -> Iterator[sqlite3.Connection]:
    """A short-lived connection in WAL mode; commits on success. On a full disk SQLite can neither write nor, in WAL
    mode, read: that is one sentence, not a traceback."""
    connection = sqlite3.connect(paths.jobs_db_path(), timeout=30, isolation_level=None)
    connection.row_factory = sqlite3.Row
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(SCHEMA)
        _add_missing_columns(connection)
        yield connection
    except sqlite3.OperationalError as error:
        if is_disk_full(error) or ("disk I/O error" in str(error) and _disk_nearly_full()):
            raise UserError(f"The server's disk is full, so the job list cannot be used; {DISK_FULL_FIX}.") from None
        raise
    finally:
        connection.close()


def _disk_nearly_full() -> bool:
    return shutil.disk_usage(paths.home_path()).free < 1024**2


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    present = {row["name"] for row in connection.execute("PRAGMA table_info(jobs)")}
    for name, kind in ADDED_COLUMNS.items():
        if name not in present:
            try:
                connection.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
            except sqlite3.OperationalError as error:
                if "duplicate column" not in str(error):  # another process added it a moment ago: fine
                    raise


def _job(row: sqlite3.Row | None) -> Job | None:
    return Job(**dict(row)) if row is not None else None


def insert(run_id: str, owner: str, peak_gb: float | None) -> Job:
    """Add a queued job for a run folder that already exists."""
    with connect() as db:
        db.execute(
            "INSERT INTO jobs (run_id, state, owner, created_at, peak_gb) VALUES (?, 'queued', ?, ?, ?)",
            (run_id, owner, time.time(), peak_gb),
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


def queue_position(run_id: str) -> int | None:
    """1 for the next job to start; None when the job is not queued."""
    queued = [job.run_id for job in reversed(list_jobs(("queued",)))]
    return queued.index(run_id) + 1 if run_id in queued else None


def queue_rows(listed: list[Job]) -> list[dict[str, Any]]:
    """The job table as people read it (the Runs page and ``workbench jobs list``): place in the queue, who, when."""
    waiting = reversed(list_jobs(("queued",)))  # the oldest queued job starts first
    positions = {job.run_id: index for index, job in enumerate(waiting, start=1)}
    return [
        {
            "run": job.run_id,
            "state": job.state,
            "position": str(positions[job.run_id]) if job.run_id in positions else "",
            "owner": job.owner,
            "queued at": words.clock(job.created_at),
            "started at": words.clock(job.started_at),
            "memory estimate (GB)": f"{job.peak_gb:.1f}" if job.peak_gb is not None else "none made",
            "attempt": job.attempt,
        }
        for job in listed
    ]


def running_estimate_gb() -> tuple[int, float]:
    """How many jobs are running now, and the sum of their peak-memory estimates (0 for those without one)."""
    started = list_jobs(("starting", "running"))
    return len(started), round(sum(job.peak_gb or 0.0 for job in started), 2)


def next_queued() -> Job | None:
    """The oldest queued job: the one the runner starts next."""
    queued = list_jobs(("queued",))
    return queued[-1] if queued else None


def claim(job_id: int) -> Job | None:
    """Atomically move this job to 'starting' if it is still queued; None when it no longer is."""
    with connect() as db:
        row = db.execute(
            "UPDATE jobs SET state='starting', started_at=? WHERE id=? AND state='queued' RETURNING *",
            (time.time(), job_id),
        ).fetchone()
    return _job(row)


def mark_running(run_id: str, pid: int, proc_start: str) -> None:
    with connect() as db:
        db.execute("UPDATE jobs SET state='running', pid=?, proc_start=? WHERE run_id=?", (pid, proc_start, run_id))


def mark_finished(run_id: str, state: str, exit_code: int | None = None, error: str = "") -> None:
    with connect() as db:
        db.execute(
            "UPDATE jobs SET state=?, finished_at=?, exit_code=?, error=? WHERE run_id=?",
            (state, time.time(), exit_code, error, run_id),
        )


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
            "exit_code=NULL, error='', started_at=NULL, finished_at=NULL WHERE run_id=?",
            (run_id,),
        )
    return get_job(run_id)


def requeue_unstarted(run_id: str) -> None:
    """Return a job that was claimed but never got a process (the runner stopped in between) to the queue."""
    with connect() as db:
        db.execute("UPDATE jobs SET state='queued', started_at=NULL WHERE run_id=? AND pid IS NULL", (run_id,))


def forget(run_id: str) -> bool:
    """Remove a finished job's row (its run is being deleted); False when the job is active, or became so."""
    with connect() as db:
        db.execute("DELETE FROM jobs WHERE run_id=? AND state NOT IN ('queued','starting','running')", (run_id,))
        remaining = db.execute("SELECT COUNT(*) FROM jobs WHERE run_id=?", (run_id,)).fetchone()[0]
    return remaining == 0
