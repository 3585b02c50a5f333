"""The Slurm backend: a job is an ``sbatch`` batch job on the configured partition, watched with ``scontrol``.

Settings (read on every call): ``WORKBENCH_SLURM_PARTITION`` (set: Slurm is offered), ``WORKBENCH_SLURM_ACCOUNT``,
``WORKBENCH_SLURM_TIME`` (the time limit, Slurm's format; default one day) and ``WORKBENCH_SLURM_GRES`` (the GPU
resource name, default ``gpu``; empty on a cluster without GPUs). The batch script runs the training module in the run
directory, which must be on a filesystem the cluster's nodes share with this server. Jobs are submitted
``--requeue``: one that Slurm preempts or requeues starts again from its last sealed checkpoint. A cancel sends
SIGTERM to the batch script and its children (the trainer saves at the next step); ``force`` is a plain ``scancel``.
"""

import os
import subprocess
from pathlib import Path

from workbench.jobs.backend import COMMAND_TIMEOUT_S, LOG_MAX_CHARS, BackendError, Seen, Submitted, cluster_shell_line
from workbench.jobs.queue import Job
from workbench.runs import directory
from workbench.training.failures import HOST_OOM, Failure


SCRIPT_FILE = "slurm.sh"
WAITING = {"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SUSPENDED"}
RUNNING = {"RUNNING", "CONFIGURING", "COMPLETING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESIZING"}
RESUME = "resume it from its last checkpoint"
ENDED_BY_SLURM = {
    "CANCELLED": "Slurm cancelled the job (not through the workbench)",
    "PREEMPTED": "Slurm preempted the job for another one",
    "NODE_FAIL": "the Slurm node running the job failed",
    "BOOT_FAIL": "the Slurm node for the job failed to start",
    "DEADLINE": "the job reached its Slurm deadline",
}


def setting(name: str, default: str = "") -> str:
    return os.environ.get(f"WORKBENCH_SLURM_{name}", default).strip()


class SlurmBackend:
    """Batch jobs on a Slurm cluster."""

    name = "slurm"

    def submit(self, job: Job, run_dir: Path, env: dict[str, str]) -> Submitted:
        script = run_dir / SCRIPT_FILE
        script.write_text(f"#!/bin/bash\n{cluster_shell_line(run_dir, job.gpus)}\n", encoding="utf-8")
        output = _slurm(["sbatch", "--parsable", *sbatch_options(job, run_dir), str(script)], env)
        return Submitted(output.strip().split(";")[0])

    def status(self, job: Job) -> Seen:
        fields = job_fields(job.backend_job)
        if fields is None:
            return Seen("ended", None, "no longer known to Slurm")
        state = fields.get("JobState", "")
        reason = fields.get("Reason", "None")
        detail = f"{state}: {reason}" if reason not in ("None", "") else state
        if state in WAITING:
            return Seen("waiting", None, detail)
        if state in RUNNING:
            return Seen("running", None, detail)
        return ended(state, fields.get("ExitCode", ""), detail)

    def logs(self, job: Job) -> str:
        """The batch job's own output (Slurm writes it into the run directory): its time-limit, cancel and node
        messages."""
        return directory.tail_log(directory.run_dir(job.run_id), LOG_MAX_CHARS, directory.BACKEND_LOG_FILE)

    def cancel(self, job: Job, force: bool = False) -> None:
        if not job.backend_job:
            return
        polite = not force and self.status(job).state == "running"
        _slurm(["scancel", *(["--full", "--signal=TERM"] if polite else []), job.backend_job])

    def artifacts(self, job: Job) -> Path:
        return directory.run_dir(job.run_id)


def sbatch_options(job: Job, run_dir: Path) -> list[str]:
    """The batch job's options: partition, time limit, account and GPUs from the settings, one node, requeueable."""
    options = [
        f"--job-name=workbench-{job.run_id}",
        f"--partition={setting('PARTITION')}",
        f"--time={setting('TIME', '1-00:00:00')}",
        "--nodes=1",
        "--ntasks=1",
        "--requeue",
        f"--chdir={run_dir}",
        f"--output={run_dir / directory.BACKEND_LOG_FILE}",
        "--open-mode=append",
        "--export=ALL",
    ]
    if setting("ACCOUNT"):
        options.append(f"--account={setting('ACCOUNT')}")
    if setting("GRES", "gpu"):
        options.append(f"--gres={setting('GRES', 'gpu')}:{job.gpus}")
    return options


def job_fields(job_id: str) -> dict[str, str] | None:
    """``scontrol show job``'s fields of one job, or None once Slurm no longer knows it (purged after it ended)."""
    try:
        output = _slurm(["scontrol", "show", "job", "--oneliner", job_id])
    except BackendError as error:
        if "Invalid job id" in str(error):
            return None
        raise
    return dict(part.split("=", 1) for part in output.split() if "=" in part)


def ended(state: str, exit_code: str, detail: str) -> Seen:
    """An ended job: its exit code ('N:S'; a signal S as -S) and, when Slurm ended it, why."""
    code, _, signal = exit_code.partition(":")
    number = -int(signal) if signal.isdigit() and int(signal) else int(code) if code.isdigit() else None
    if state == "TIMEOUT":
        limit = setting("TIME", "1-00:00:00")
        message = f"The job reached its Slurm time limit ({limit}); {RESUME}, or ask an admin for more time."
        return Seen("ended", number, detail, Failure("time_limit", message), interrupted=True)
    if state == "OUT_OF_MEMORY":
        return Seen("ended", number, detail, HOST_OOM)
    if state in ENDED_BY_SLURM:
        message = f"{ENDED_BY_SLURM[state].capitalize()}; {RESUME}."
        return Seen("ended", number, detail, Failure("cluster_ended", message), interrupted=True)
    return Seen("ended", number, detail)


def _slurm(command: list[str], env: dict[str, str] | None = None) -> str:
    """Run one Slurm command; its refusal becomes a BackendError with Slurm's own words."""
    try:
        done = subprocess.run(
            command,
            check=False,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            env={**os.environ, **(env or {})},
        )
    except FileNotFoundError:
        raise BackendError(f"Slurm's {command[0]} is not installed on this server; install Slurm's client.") from None
    except subprocess.TimeoutExpired:
        raise BackendError(f"Slurm did not answer {command[0]} within {COMMAND_TIMEOUT_S:.0f} s; try again.") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        raise BackendError(f"Slurm refused {command[0]}: {said[0][:300]}")
    return done.stdout
