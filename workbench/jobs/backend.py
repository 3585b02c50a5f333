"""Where a job runs: the few verbs the runner uses for every backend, and which backends this server is set up for.

A backend takes a claimed job and runs the training module for its run directory: ``submit`` (returns the backend's
own id for the attempt), ``status`` (waiting, running or ended, in the backend's words), ``logs`` (the backend's own
log of the job, beside the run's log.txt), ``cancel`` (a polite stop first: the trainer saves a checkpoint at the next
step; ``force`` ends it) and ``artifacts`` (where the run's files are: the run directory, on storage the backend's
machines share with this server). ``local`` (this server, ``workbench.jobs.local_backend``) is the default; ``slurm``
(``workbench.jobs.slurm``) and ``ray`` (``workbench.jobs.ray_backend``) hand jobs to a cluster's own scheduler, which
places them on its GPUs. Progress, metrics, checkpoints, cancel and resume then work through the run directory as for
a local run.
"""

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from workbench.errors import UserError
from workbench.jobs.queue import Job
from workbench.runs import directory
from workbench.training.failures import Failure


CANCEL_GRACE_S = float(os.environ.get("WORKBENCH_CANCEL_GRACE_S", "60"))  # from a polite stop to a forced one
LOG_MAX_CHARS = 20_000  # of a backend's own log shown on the Runs page
COMMAND_TIMEOUT_S = 30.0  # for one call to a cluster's scheduler


class BackendError(UserError):
    """A backend refused or could not be reached; the message says which and what to do."""


@dataclass(frozen=True)
class Seen:
    """What the backend says of a job now."""

    state: str  # "waiting" (in the backend's queue), "running" or "ended"
    exit_code: int | None = None  # of an ended job, when known; negative: the signal that ended it
    detail: str = ""  # the backend's own word for it ("PENDING (Resources)", "COMPLETED", "STOPPED")
    failure: Failure | None = None  # how it ended when the backend knows better than the exit code
    interrupted: bool = False  # ended by the cluster (preempted, node lost), not by the training: resumable


@dataclass(frozen=True)
class Submitted:
    """A job the backend accepted."""

    backend_job: str  # the backend's own id
    pid: int | None = None  # a local process group's leader
    proc_start: str = ""


class Backend(Protocol):
    name: str

    def submit(self, job: Job, run_dir: Path, env: dict[str, str]) -> Submitted: ...

    def status(self, job: Job) -> Seen: ...

    def logs(self, job: Job) -> str: ...

    def cancel(self, job: Job, force: bool = False) -> None: ...

    def artifacts(self, job: Job) -> Path: ...


LABELS = {"local": "this server", "slurm": "Slurm", "ray": "Ray"}
SETTINGS = {"slurm": "WORKBENCH_SLURM_PARTITION", "ray": "WORKBENCH_RAY_ADDRESS"}


def configured() -> list[str]:
    """The backends this server may send jobs to: always 'local', and each cluster whose setting is present."""
    return ["local", *(name for name, variable in SETTINGS.items() if os.environ.get(variable, "").strip())]


def check_configured(name: str) -> None:
    """Refuse a run for a cluster this server is not set up for, saying which setting is missing."""
    if name not in configured():
        raise UserError(
            f"This server is not set up to run jobs on {LABELS.get(name, name)}: an admin sets {SETTINGS[name]} "
            "(see the README), or choose 'local' under Runs on."
        )


def where(job: Job) -> str:
    """Where a job runs, in words: 'this server', 'Slurm job 12', 'Ray job workbench-...'."""
    label = LABELS.get(job.backend, job.backend)
    return f"{label} job {job.backend_job}" if job.backend != "local" and job.backend_job else label


def training_command(run_dir: Path, gpus: int = 1, resume_latest: bool = False) -> list[str]:
    """The training module as one process, or one per GPU (data parallel, `torchrun`; on CPUs too, for tests).
    ``resume_latest``: a cluster that runs the job again (requeued after preemption) resumes from its last
    sealed checkpoint."""
    module = ["-m", "workbench.training", str(run_dir), *(["--resume-latest"] if resume_latest else [])]
    if gpus > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}", *module]
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes=1", "--num_machines=1"]
    return [*launch, "--mixed_precision=no", "--dynamo_backend=no", *module]


def cluster_shell_line(run_dir: Path, gpus: int) -> str:
    """One shell line a cluster runs: the training command in the run directory, its output appended to the run's
    log (which the Runs page reads, as for a local run)."""
    command = shlex.join(training_command(run_dir, gpus, resume_latest=True))
    log = shlex.quote(str(run_dir / directory.LOG_FILE))
    return f"cd {shlex.quote(str(run_dir))} && exec {command} >> {log} 2>&1"
