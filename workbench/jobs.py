"""The job store: a SQLite table of training jobs that outlives the browser, the web server and the runner.

The web app and the command line only insert jobs and ask for cancellation; the runner (``workbench.runner``)
claims queued jobs and records how they end. States: queued, starting, running, succeeded, failed, cancelled,
interrupted.
"""

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from workbench import paths, people, runs
from workbench.config import DEMO_MODEL, RunConfig
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
    """A short-lived connection in WAL mode; commits on success."""
    connection = sqlite3.connect(paths.jobs_db_path(), timeout=30, isolation_level=None)
    connection.row_factory = sqlite3.Row
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(SCHEMA)
        _add_missing_columns(connection)
        yield connection
    finally:
        connection.close()


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


def submit(config: RunConfig, owner: str | None = None, peak_gb: float | None = None) -> Job:
    """Validate the config and its inputs, create its run directory and queue it.

    ``peak_gb`` is the pre-flight estimate of the run's peak GPU memory: with it, the runner may start the run on a
    GPU that another run is using, when the memory free there allows it; without it, the run waits its turn alone.
    """
    config.check()
    check_inputs(config)
    owner = owner or people.server_user()
    run = runs.create_run(config)
    runs.update_status(run.path, owner=owner)
    with connect() as db:
        db.execute(
            "INSERT INTO jobs (run_id, state, owner, created_at, peak_gb) VALUES (?, 'queued', ?, ?, ?)",
            (run.run_id, owner, time.time(), peak_gb),
        )
    return get_job(run.run_id)


def check_inputs(config: RunConfig) -> None:
    """Refuse a run whose dataset or model folder is missing, before it takes a place in the queue."""
    from workbench import data, models

    data.resolve_dataset(config.dataset)
    if config.eval_dataset.strip():
        data.resolve_dataset(config.eval_dataset)
    if config.model.strip() != DEMO_MODEL:
        models.resolve_model(config.model)


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
            "position": positions.get(job.run_id),
            "owner": job.owner,
            "queued at": _clock(job.created_at),
            "started at": _clock(job.started_at),
            "memory estimate (GB)": job.peak_gb,
            "attempt": job.attempt,
        }
        for job in listed
    ]


def _clock(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else ""


def running_estimate_gb() -> tuple[int, float]:
    """How many jobs are running now, and the sum of their peak-memory estimates (0 for those without one)."""
    started = list_jobs(("starting", "running"))
    return len(started), round(sum(job.peak_gb or 0.0 for job in started), 2)


def request_cancel(run_id: str, user: str | None = None) -> Job:
    """Cancel a job: at once when queued, through the runner when started. Calling it twice is harmless.
    With ``user``, only the run's owner or an admin may cancel it."""
    people.check_control(get_job(run_id).owner, user, "cancel")
    with connect() as db:
        db.execute(
            "UPDATE jobs SET state='cancelled', finished_at=? WHERE run_id=? AND state='queued'", (time.time(), run_id)
        )
        db.execute("UPDATE jobs SET cancel_requested=1 WHERE run_id=? AND state IN ('starting','running')", (run_id,))
    job = get_job(run_id)
    if job.state == "cancelled" and job.started_at is None:
        run = runs.get_run(run_id)
        runs.update_status(run.path, state="cancelled", message="Cancelled before it started.")
    return job


def resume(run_id: str, user: str | None = None) -> Job:
    """Queue a failed, interrupted or cancelled run again, to continue from its last sealed checkpoint.
    With ``user``, only the run's owner or an admin may resume it."""
    from workbench import checkpoints

    job = get_job(run_id)
    people.check_control(job.owner, user, "resume")
    if job.state not in RESUMABLE_STATES:
        raise UserError(f"The run {run_id} is {job.state}; only failed, interrupted or cancelled runs can be resumed.")
    run = runs.get_run(run_id)
    checkpoint = checkpoints.latest_checkpoint(run.path)
    if checkpoint is None:
        raise UserError(f"The run {run_id} has no complete checkpoint to resume from; start it again instead.")
    (run.path / "resume.json").write_text(json.dumps({"checkpoint": checkpoint.name}), encoding="utf-8")
    with connect() as db:
        db.execute(
            "UPDATE jobs SET state='queued', attempt=attempt+1, cancel_requested=0, pid=NULL, proc_start=NULL, "
            "exit_code=NULL, error='', started_at=NULL, finished_at=NULL WHERE run_id=?",
            (run_id,),
        )
    runs.update_status(run.path, state="queued", message=f"Queued to resume from {checkpoint.name}.", finished_at=None)
    return get_job(run_id)


def forget(run_id: str) -> bool:
    """Remove a finished job's row (its run is being deleted); False when the job is active, or became so."""
    with connect() as db:
        db.execute("DELETE FROM jobs WHERE run_id=? AND state NOT IN ('queued','starting','running')", (run_id,))
        remaining = db.execute("SELECT COUNT(*) FROM jobs WHERE run_id=?", (run_id,)).fetchone()[0]
    return remaining == 0


def next_queued() -> Job | None:
    """The job ``claim_next`` would start, without claiming it."""
    queued = list_jobs(("queued",))
    return queued[-1] if queued else None


def claim_next() -> Job | None:
    """Atomically move the oldest queued job to 'starting' and return it."""
    waiting = next_queued()
    return claim(waiting.id) if waiting is not None else None


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
