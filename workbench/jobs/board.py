"""What a page watching the queue shows: one state per run that the job table and the run's panel agree on, and a
fingerprint of the whole queue that tells the page when something started or ended, so it redraws everything at once.

The queue row and the run's ``status.json`` are written by different processes at different moments (the runner
marks a job running before the training process has loaded the model and written its own status; the training
process writes "cancelled" a moment before the runner records how the job ended). While a job is active the queue
speaks for it; once it has ended, the run's status, which the runner has closed by then.
"""

from workbench.jobs import queue
from workbench.jobs.queue import Job
from workbench.runs import directory
from workbench.runs.directory import Status


def shown_state(job: Job | None, status: Status) -> str:
    """The run's state as every part of a page shows it."""
    return job.state if job is not None else status.state


def settled(job: Job | None) -> bool:
    """Nothing more will happen to this run unless someone acts: its job has ended (or it never had one) and the
    runner has recorded the ending, so what the page offers next (Resume, download) is what is true."""
    return job is None or not job.active


def fingerprint() -> tuple[tuple[str, str], ...]:
    """Every job and its state: it changes exactly when a job is queued, starts, ends, or is resumed."""
    return tuple((job.run_id, job.state) for job in queue.list_jobs())


def anything_active(seen: tuple[tuple[str, str], ...]) -> bool:
    return any(state in queue.ACTIVE_STATES for _, state in seen)


def run_view(run_id: str) -> tuple[Job | None, Status]:
    """The job row and the status of one run, read together."""
    return queue.find_job(run_id), directory.read_status(directory.run_dir(run_id))


def shown_message(job: Job | None, status: Status) -> str:
    """The run's own message, except while its job has started and the training process has not yet written one."""
    if job is not None and job.state in ("starting", "running") and status.state == "queued":
        cluster_queue = job.backend != "local" and job.state == "starting"  # the runner says where it waits
        return status.message if cluster_queue else "Starting the training process."
    if job is not None and job.active and status.finished:
        return "Training has ended; the runner is recording how."
    return status.message
