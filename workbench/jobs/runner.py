"""The runner: a long-lived process that starts queued jobs, one at a time, each in its own process group.

Start it with ``workbench runner`` (for example from a systemd unit), or let the web app start it on demand
(``workbench.jobs.runner_lock``, whose file lock makes sure only one runner works on a data folder). On start it
reconciles the job table with the processes that really exist: a training process that is still alive is
re-attached, one that is gone is recorded as failed or interrupted, never left 'running'.

The next job is the one ``workbench.jobs.fairness`` puts first (round-robin between people, quotas, admin priority).
On a CPU jobs run one at a time. On a server with several GPUs each job gets GPUs of its own (as many as it asked
for, through ``CUDA_VISIBLE_DEVICES``) and waits while too few are free. On a server with one GPU the next job may
start beside running ones when every one of them has a pre-flight estimate of its peak memory and has finished its
first step in its current attempt (so its memory is taken), the next job's estimate (with a safety margin) fits in
the memory free on the GPU right now, and all their estimates together, beside what the model server holds, fit in
the GPU (a running job may not have reached its peak yet); ``workbench.jobs.gpu_share`` has the rule. A job without
an estimate always runs alone.

Jobs for a cluster (``backend`` 'slurm' or 'ray', ``workbench.jobs.backend``) are handed to the cluster as soon as
it is their turn, without waiting for this server's GPUs: the cluster's scheduler places them. The runner then
watches them through the same verbs as its own processes.
"""

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from workbench import paths
from workbench.errors import is_disk_full
from workbench.jobs import backend, fairness, gpu_share, notify, processes, queue, runner_lock
from workbench.jobs.backend import CANCEL_GRACE_S, Backend, BackendError, Seen
from workbench.jobs.local_backend import LocalBackend
from workbench.jobs.queue import Job
from workbench.models import device
from workbench.models.device import Gpu
from workbench.runs import directory, record
from workbench.team import audit
from workbench.training import failures


FINAL_STATES = ("succeeded", "failed", "cancelled")
DISK_FULL_BELOW = 1024**2  # free bytes under which a failed run is put down to a full disk


@dataclass
class Runner:
    """Owns the training processes it started and watches those it re-attached to."""

    poll_s: float = 0.5
    idle_exit_s: float | None = None
    gpus: Callable[[], list[Gpu]] = field(default=lambda: device.gpus())
    local: LocalBackend = field(default_factory=LocalBackend)
    clusters: dict[str, Backend] = field(default_factory=dict)
    ended: dict[str, Seen] = field(default_factory=dict)  # jobs seen to end, until their end is recorded
    term_sent_at: dict[str, float] = field(default_factory=dict)
    disk_was_full: dict[str, bool] = field(default_factory=dict)  # at the last look while the job ran

    def run_forever(self) -> int:
        lock = runner_lock.try_lock()
        if lock is None:
            print("Another runner already works on this data folder; exiting.", flush=True)
            return 0
        try:
            os.ftruncate(lock, 0)
            os.write(lock, str(os.getpid()).encode())
            print(f"Runner {os.getpid()} working on {paths.workbench_home()}", flush=True)
            self.reconcile()
            self.loop()
        finally:
            os.close(lock)
        return 0

    def loop(self) -> None:
        """Tick until the data folder disappears or, with ``idle_exit_s``, until idle that long."""
        idle_since = time.monotonic()
        while paths.home_path().is_dir():
            busy = self.safe_tick()
            idle_since = time.monotonic() if busy else idle_since
            if self.idle_exit_s is not None and time.monotonic() - idle_since > self.idle_exit_s:
                return
            time.sleep(self.poll_s)

    def reconcile(self) -> None:
        """Bring every started job's row in line with reality, after a runner restart."""
        for job in queue.list_jobs(("starting", "running")):
            self.guarded(job, self.reattach)

    def reattach(self, job: Job) -> None:
        if job.pid is None and not job.backend_job:
            queue.requeue_unstarted(job.run_id)
        elif job.backend == "local" and not processes.group_alive(job.pid, job.proc_start):
            self.finish(job, Seen("ended", None, "process gone"))
        else:
            print(f"Re-attached to run {job.run_id} ({job.backend} {job.backend_job or job.pid}).", flush=True)

    def backend_of(self, job: Job) -> Backend:
        if job.backend == "local":
            return self.local
        if job.backend not in self.clusters:
            self.clusters[job.backend] = cluster_backend(job.backend)
        return self.clusters[job.backend]

    def safe_tick(self) -> bool:
        """One pass; when it fails as a whole (SQLite refusing writes on a full disk) the next pass tries again."""
        try:
            return self.tick()
        except Exception as error:  # noqa: BLE001 - the runner outlives any one failure; its log says what it was
            print(f"A pass over the queue failed ({type(error).__name__}: {error}); trying again.", flush=True)
            return True

    def guarded(self, job: Job, action: Callable[[Job], None]) -> None:
        """Do ``action`` for one job; whatever its files hold, a failure there is logged and stops no other job."""
        try:
            action(job)
        except Exception as error:  # noqa: BLE001 - one run's broken files or a full disk must not stop the queue
            print(f"Run {job.run_id}: {type(error).__name__}: {error}; trying again on the next pass.", flush=True)

    def tick(self) -> bool:
        """One pass over the table; returns True while any job is active."""
        started = queue.list_jobs(("starting", "running"))
        for job in started:
            self.guarded(job, self.watch)
        ordered, _ = fairness.fair_queue()
        for job in (job for job in ordered if job.backend != "local"):  # the cluster's scheduler places them
            claimed = queue.claim(job.id)
            if claimed is not None:
                self.guarded(claimed, self.start)
        started = [job for job in queue.list_jobs(("starting", "running")) if job.backend == "local"]
        waiting = next((job for job in ordered if job.backend == "local"), None)
        if waiting is not None:
            gpus = self.gpus()
            if waiting.gpus > device.most_processes(gpus)[0]:
                self.refuse(waiting, *device.most_processes(gpus))
            elif (devices := self.devices_for(waiting, started, gpus)) is not None:
                job = queue.claim(waiting.id, devices)  # exactly the job that was checked, if it is still queued
                if job is not None:
                    self.guarded(job, self.start)
        return bool(queue.list_jobs(queue.ACTIVE_STATES))

    def devices_for(self, waiting: Job, started: list[Job], gpus: list[Gpu]) -> str | None:
        """The GPUs ``waiting`` may start on now ('' on a CPU), or None while it must wait."""
        if len(gpus) > 1:
            held = {device for job in started for device in job.devices.split(",") if device}
            free = sorted((gpu for gpu in gpus if str(gpu.index) not in held), key=lambda gpu: -gpu.free_gb)
            chosen = sorted(gpu.index for gpu in free[: waiting.gpus])
            return ",".join(map(str, chosen)) if len(chosen) == waiting.gpus else None
        if started and not self.fits_beside(waiting, started, gpus):
            return None
        return str(gpus[0].index) if gpus else ""

    def refuse(self, job: Job, most: int, have: str) -> None:
        """Fail a job that asks for more GPUs than the server has, with what to change."""
        if queue.claim(job.id) is None:
            return
        fix = f"start it again (Train again) with GPUs set to {most}"
        message = f"The run asks for {job.gpus} GPUs and this server has {have}; {fix}."
        queue.mark_finished(job.run_id, "failed", None, message)
        self.close_run_files(directory.run_dir(job.run_id), "failed", failures.Failure("too_many_gpus", message))

    def fits_beside(self, waiting: Job, started: list[Job], gpus: list[Gpu] | None = None) -> bool:
        """True when ``waiting`` may start now on the GPU the ``started`` jobs are using (see the module docstring)."""
        gpus = self.gpus() if gpus is None else gpus
        everyone = [waiting, *started]
        if any(job.peak_gb is None for job in everyone) or any(job.state != "running" for job in started):
            return False
        if any(directory.read_status(directory.run_dir(job.run_id)).steps_this_attempt < 1 for job in started):
            return False
        if not gpus:
            return False
        free, total = gpus[0].free_gb, gpus[0].total_gb
        peaks = [job.peak_gb for job in everyone]
        fits = gpu_share.job_fits_now(waiting.peak_gb, free) and gpu_share.jobs_fit(peaks, total)
        if fits:
            print(f"Run {waiting.run_id} needs about {waiting.peak_gb:.1f} GB; {free:.1f} GB are free.", flush=True)
        return fits

    def start(self, job: Job) -> None:
        run_dir = directory.run_dir(job.run_id)
        if not (run_dir / directory.CONFIG_FILE).is_file():  # removed by hand: fail this job, keep the queue going
            queue.mark_finished(job.run_id, "failed", None, "The run folder is gone; start the run again.")
            print(f"Run {job.run_id} has no run folder; marked failed.", flush=True)
            return
        env = {"CUDA_VISIBLE_DEVICES": job.devices} if job.devices else {}
        try:
            submitted = self.backend_of(job).submit(job, run_dir, env)
        except (OSError, BackendError) as error:
            disk_full = isinstance(error, OSError) and is_disk_full(error)
            failure = failures.DISK_FULL if disk_full else failures.Failure("not_started", str(error))
            queue.mark_finished(job.run_id, "failed", None, failure.message)
            self.close_run_files(run_dir, "failed", failure)
            print(f"Run {job.run_id} could not start: {error}", flush=True)
            return
        if submitted.pid is not None:
            queue.mark_running(job.run_id, submitted.pid, submitted.proc_start)
            on = f" as pid {submitted.pid}" + (f" on GPU {job.devices}" if job.devices else "")
        else:
            queue.mark_submitted(job.run_id, submitted.backend_job)
            on = f" as {job.backend} job {submitted.backend_job}"
            message = f"Sent to {backend.LABELS[job.backend]} as job {submitted.backend_job}; waiting for it to start."
            directory.update_status(run_dir, message=message)
        print(f"Started run {job.run_id}{on}.", flush=True)
        audit.record(job.owner, "start", job.run_id, f"attempt {job.attempt}{on}")

    def watch(self, job: Job) -> None:
        seen = self.ended.get(job.run_id)  # it ended, but recording that failed last time (a full disk)
        seen = seen or (self.backend_of(job).status(job) if job.pid or job.backend_job else None)
        if seen is None:
            return
        if seen.state == "ended":
            self.ended[job.run_id] = seen
            self.finish(job, seen)
            return
        if job.backend != "local":
            self.follow_cluster(job, seen)
        # Remembered because space may come back before the end is recorded (a log on a full disk says nothing).
        self.disk_was_full[job.run_id] = _disk_full(directory.run_dir(job.run_id))
        if job.cancel_requested:
            self.cancel(job)

    def follow_cluster(self, job: Job, seen: Seen) -> None:
        """A cluster job started, or went back to the cluster's queue (requeued or preempted: it resumes)."""
        state = "running" if seen.state == "running" else "starting"
        if state != job.state:
            queue.mark_cluster_state(job.run_id, state)
            if state == "starting" and not job.cancel_requested:
                label = backend.LABELS[job.backend]
                message = f"Back in {label}'s queue ({seen.detail}); it resumes from its last checkpoint."
                directory.update_status(directory.run_dir(job.run_id), state="queued", message=message)

    def cancel(self, job: Job) -> None:
        """A polite stop first (the trainer stops at the next step and saves); forced once the grace period is
        over."""
        first_sent = self.term_sent_at.get(job.run_id)
        if first_sent is None:
            self.term_sent_at[job.run_id] = time.monotonic()
            self.backend_of(job).cancel(job)
        elif time.monotonic() - first_sent > CANCEL_GRACE_S:
            self.backend_of(job).cancel(job, force=True)

    def finish(self, job: Job, seen: Seen) -> None:
        """Record how a job ended, preferring what the training process itself wrote into status.json (unless the
        cluster stopped it: a trainer told to stop saves and says 'cancelled'). The job row is what must be
        written; the run folder's files are written where the disk allows."""
        run_dir = directory.run_dir(job.run_id)
        status = directory.read_status(run_dir)
        state, message = status.state, status.message
        by_cluster = seen.failure is not None and not job.cancel_requested and state != "succeeded"
        if by_cluster:
            state, message = ("interrupted" if seen.interrupted else "failed"), seen.failure.message
            self.close_run_files(run_dir, state, seen.failure)
        elif state not in FINAL_STATES:
            log = directory.tail_log(run_dir, 4000)
            if _disk_full(run_dir) or self.disk_was_full.get(job.run_id):  # the trainer could not write why it stopped
                log += "\nNo space left on device (the runner found the disk full)"
            exit_code = failures.signal_exit(seen.exit_code, log)
            state, failure = failures.classify_exit(exit_code, bool(job.cancel_requested), log)
            message = failure.message
            self.close_run_files(run_dir, state, failure)
        queue.mark_finished(job.run_id, state, seen.exit_code, message if state != "succeeded" else "")
        notify.run_ended(job.run_id, state, message, job.owner)
        self.term_sent_at.pop(job.run_id, None)
        self.ended.pop(job.run_id, None)
        self.disk_was_full.pop(job.run_id, None)
        print(f"Run {job.run_id} ended: {state}. {message}", flush=True)

    def close_run_files(self, run_dir: Path, state: str, failure: failures.Failure) -> None:
        try:
            finished = time.time()
            directory.update_status(
                run_dir, state=state, message=failure.message, failure=failure.code, finished_at=finished
            )
            record.finish_record(run_dir, state, failure.code)
        except OSError as error:  # a full disk or a folder removed by hand: the job row still says how it ended
            print(f"Could not write the end of {run_dir.name} into its folder: {error}", flush=True)


def cluster_backend(name: str) -> Backend:
    """The backend of a cluster (imported only when a job asks for it: Ray's client is large)."""
    if name == "slurm":
        from workbench.jobs.slurm import SlurmBackend

        return SlurmBackend()
    if name == "ray":
        from workbench.jobs.ray_backend import RayBackend

        return RayBackend()
    raise BackendError(f"There is no backend '{name}'; choose local, slurm or ray under Runs on.")


def _disk_full(run_dir: Path) -> bool:
    try:
        return shutil.disk_usage(run_dir).free < DISK_FULL_BELOW
    except OSError:
        return False
