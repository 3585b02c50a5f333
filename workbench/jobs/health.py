"""Whether the queue and a running job are moving: the runner is up (started again when the app may start it), the
training process still exists, and its steps keep finishing. The Runs page shows what this finds while it waits."""

import os
import time

from workbench.jobs import processes, queue, runner_lock
from workbench.runs import directory
from workbench.words import format_duration


def stall_warn_s() -> float:
    """After this long without a finished step a running job is called stalled (``WORKBENCH_STALL_WARN_S``)."""
    try:
        return float(os.environ.get("WORKBENCH_STALL_WARN_S") or 600)
    except ValueError:
        return 600.0


def runner_warning() -> str | None:
    """None while a runner works on this data folder; one is started when the app may start it; else a sentence."""
    if runner_lock.runner_running():
        return None
    if runner_lock.start_allowed():
        runner_lock.ensure_runner()
        return None
    return (
        "The job runner is not running, so no queued run starts and no ending is recorded; start it with "
        "`workbench runner` on the server, or ask the admin."
    )


def job_warning(run_id: str, now: float | None = None) -> str | None:
    """A sentence when a job the queue calls running is not moving: its process has gone, or no step has finished
    for ``stall_warn_s()`` seconds (stopped, hung, or a very long evaluation)."""
    job = queue.find_job(run_id)
    if job is None or job.state != "running" or not job.pid:
        return None
    if not processes.group_alive(job.pid, job.proc_start):
        return "The training process has ended; the runner is recording how it ended."
    status = directory.read_status(directory.run_dir(run_id))
    quiet = (now or time.time()) - (status.updated_at or job.started_at or time.time())
    if status.state == "running" and quiet > stall_warn_s():
        return (
            f"No training step has finished for {format_duration(quiet)} (the last was step {status.step}). A long "
            "evaluation or save can take that long; if it does not move, cancel the run and resume it."
        )
    return None
