"""The Ray backend: a job is a Ray Job on the cluster at ``WORKBENCH_RAY_ADDRESS`` (its dashboard's address, such as
http://head:8265), submitted and watched through the Jobs REST API, so the runner never imports Ray itself.

The entrypoint runs the training module in the run directory (on storage the cluster's nodes share with this
server), with the workbench's settings (``WORKBENCH_*``, ``HF_*``) passed as the job's environment; Ray runs it
through ``/bin/sh`` on a node with the GPUs it asked for (``WORKBENCH_RAY_GPUS=0`` on a cluster without GPUs). A
cancel is Ray's stop: SIGTERM to the job's processes, SIGKILL after the runner's grace period. Ray keeps its own log of
the job on the head; when the job ends it is copied into the run directory. A head that stops answering for
``WORKBENCH_RAY_LOST_AFTER_S`` (default 120 s), or that no longer knows the job (it restarted), leaves the run
interrupted, to resume from its last checkpoint.
"""

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.jobs.backend import (
    CANCEL_GRACE_S,
    COMMAND_TIMEOUT_S,
    LOG_MAX_CHARS,
    BackendError,
    Seen,
    Submitted,
    cluster_shell_line,
)
from workbench.jobs.queue import Job
from workbench.runs import directory
from workbench.training.failures import Failure


PASSED_PREFIXES = ("WORKBENCH_", "HF_", "TRANSFORMERS_", "TOKENIZERS_", "OMP_NUM_THREADS")
RESPONSE_MAX_BYTES = 4 * 1024 * 1024
RESUME = "resume it from its last checkpoint"


def setting(name: str, default: str = "") -> str:
    return os.environ.get(f"WORKBENCH_RAY_{name}", default).strip()


@dataclass
class RayBackend:
    """Jobs on a Ray cluster."""

    name: str = "ray"
    unreachable_since: dict[str, float] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return setting("ADDRESS").rstrip("/")

    def submit(self, job: Job, run_dir: Path, env: dict[str, str]) -> Submitted:
        submission_id = f"workbench-{job.run_id}-{job.attempt}"
        body = {
            "entrypoint": cluster_shell_line(run_dir, job.gpus),
            "submission_id": submission_id,
            "runtime_env": {"env_vars": job_environment(env)},
            "entrypoint_num_gpus": job.gpus if setting("GPUS", "1") != "0" else 0,
        }
        return Submitted(self.call("POST", "/api/jobs/", body).get("submission_id", submission_id))

    def status(self, job: Job) -> Seen:
        try:
            info = self.call("GET", f"/api/jobs/{job.backend_job}")
        except BackendError as error:
            return self.unanswered(job, error)
        self.unreachable_since.pop(job.run_id, None)
        if info.get("_missing"):
            failure = Failure("cluster_lost", f"Ray no longer knows the job (its head restarted); {RESUME}.")
            return Seen("ended", None, "unknown to Ray", failure, interrupted=True)
        state, message = str(info.get("status", "")), str(info.get("message") or "")
        if state == "PENDING":
            return Seen("waiting", None, f"PENDING: {message[:200]}" if message else "PENDING")
        if state == "RUNNING":
            return Seen("running", None, state)
        self.keep_log(job)
        code = info.get("driver_exit_code")
        if state == "STOPPED":
            failure = Failure("cluster_ended", f"The job was stopped in Ray (not through the workbench); {RESUME}.")
            return Seen("ended", code, state, failure, interrupted=True)
        return Seen("ended", 0 if state == "SUCCEEDED" and code is None else code, state)

    def unanswered(self, job: Job, error: BackendError) -> Seen:
        """A head that does not answer: still running, until it has been silent for too long."""
        since = self.unreachable_since.setdefault(job.run_id, time.monotonic())
        if time.monotonic() - since < float(setting("LOST_AFTER_S", "120")):
            return Seen("running" if job.state == "running" else "waiting", None, f"not answering: {error}")
        self.unreachable_since.pop(job.run_id, None)
        message = f"The Ray cluster at {self.address} stopped answering, and the job with it; {RESUME}."
        return Seen("ended", None, "Ray unreachable", Failure("cluster_lost", message), interrupted=True)

    def logs(self, job: Job) -> str:
        return str(self.call("GET", f"/api/jobs/{job.backend_job}/logs").get("logs", ""))[-LOG_MAX_CHARS:]

    def keep_log(self, job: Job) -> None:
        """Copy Ray's log of an ended job into the run directory (the Runs page reads it there)."""
        try:
            text = self.logs(job)
            (directory.run_dir(job.run_id) / directory.BACKEND_LOG_FILE).write_text(text, encoding="utf-8")
        except (BackendError, OSError):
            pass  # the run's own log says what happened; Ray's is a courtesy

    def cancel(self, job: Job, force: bool = False) -> None:
        if job.backend_job:
            self.call("POST", f"/api/jobs/{job.backend_job}/stop")  # Ray itself kills after the grace period

    def artifacts(self, job: Job) -> Path:
        return directory.run_dir(job.run_id)

    def call(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        """One request to the Jobs API; a 404 is ``{"_missing": True}``, anything else wrong a BackendError."""
        if not self.address:
            raise BackendError("Ray is not set up on this server: an admin sets WORKBENCH_RAY_ADDRESS.")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.address + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=COMMAND_TIMEOUT_S) as response:
                return json.loads(response.read(RESPONSE_MAX_BYTES) or b"{}")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return {"_missing": True}
            said = error.read(2000).decode("utf-8", "replace").strip().splitlines()[-1:] or [str(error.code)]
            raise BackendError(f"Ray refused the request ({error.code}): {said[0][:300]}") from None
        except (OSError, ValueError) as error:
            raise BackendError(f"The Ray cluster at {self.address} did not answer ({error}); try again.") from None


def job_environment(env: dict[str, str]) -> dict[str, str]:
    """The job's environment on the cluster: the workbench's settings from this server, then ``env``, and Ray's
    grace period before SIGKILL set to the runner's (whole seconds: Ray refuses anything else)."""
    passed = {name: value for name, value in os.environ.items() if name.startswith(PASSED_PREFIXES)}
    grace = str(max(1, int(CANCEL_GRACE_S)))
    return {**passed, **env, "RAY_JOB_STOP_WAIT_TIME_S": grace, "PYTHONUNBUFFERED": "1"}
