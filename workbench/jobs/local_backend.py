"""The local backend: each job is a detached process group on this server, found again after a runner restart.

It keeps the processes it started (to read their exit codes) and checks those it did not start, after a restart,
through their process group, against pid reuse (``workbench.jobs.processes``). A job is done only once its whole
group is gone: the trainer may still be saving after its launcher ended.
"""

import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from workbench.jobs import processes
from workbench.jobs.backend import Seen, Submitted, training_command
from workbench.jobs.queue import Job
from workbench.runs import directory


@dataclass
class LocalBackend:
    """Training processes on this server."""

    name: str = "local"
    children: dict[str, subprocess.Popen] = field(default_factory=dict)

    def submit(self, job: Job, run_dir: Path, env: dict[str, str]) -> Submitted:
        command = training_command(run_dir, job.gpus)
        process = processes.spawn_detached(command, run_dir / directory.LOG_FILE, env)
        self.children[job.run_id] = process
        return Submitted(str(process.pid), process.pid, processes.process_start_time(process.pid) or "")

    def status(self, job: Job) -> Seen:
        process = self.children.get(job.run_id)
        if process is not None:
            exit_code = process.poll()
            if exit_code is not None and not processes.group_members(process.pid):
                self.children.pop(job.run_id)
                return Seen("ended", exit_code, f"exit code {exit_code}")
            return Seen("running")
        if job.pid is None or not processes.group_alive(job.pid, job.proc_start):
            return Seen("ended", None, "process gone")  # a process this runner did not start: its code is lost
        return Seen("running")

    def logs(self, job: Job) -> str:
        return ""  # a local job's output is the run's own log

    def cancel(self, job: Job, force: bool = False) -> None:
        if job.pid:
            processes.signal_group(job.pid, signal.SIGKILL if force else signal.SIGTERM)

    def artifacts(self, job: Job) -> Path:
        return directory.run_dir(job.run_id)
