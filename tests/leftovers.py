"""Stopping what a test left running on a data folder (the runner, training processes, background tasks of runs, the
model server), so that no test leaks CPU load into the next; ``home`` in conftest.py calls ``stop_workbench``."""

import os
import signal
from pathlib import Path

import pytest


def stop_workbench(folder: Path) -> None:
    """Kill the runner and every training process group left on a data folder, so no test leaks CPU load."""
    from workbench.jobs import processes, queue

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(folder))
        pid = runner_pid(folder)
        if pid and pid != os.getpid():  # a test may run a Runner in a thread of this very process
            os.kill(pid, signal.SIGKILL)
        if (folder / "jobs.sqlite").exists():
            for job in queue.list_jobs(("starting", "running")):
                if job.pid and processes.group_members(job.pid):
                    os.killpg(job.pid, signal.SIGKILL)
    stop_background_tasks(folder)
    stop_model_server(folder)


def stop_background_tasks(folder: Path) -> None:
    """Kill the merge, evaluation and judgement processes still working in the data folder's runs."""
    from workbench.jobs import processes
    from workbench.results import background

    for run_dir in folder.glob("runs/*"):
        for name in background.TASKS:
            state = background.read_state(background.Task.named(run_dir, name))
            pids = (state.recorded.get("pid"), state.recorded.get("launcher")) if state.running else ()
            for pid in pids:
                if isinstance(pid, int) and pid != os.getpid() and processes.group_members(pid):
                    os.killpg(pid, signal.SIGKILL)


def stop_model_server(folder: Path) -> None:
    """Kill the model server a test (or a page it opened) started on the data folder, if one runs."""
    from workbench.serving import process

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(folder))
        server = process.running_server()
    if server is not None:
        os.kill(server.pid, signal.SIGKILL)


def runner_pid(folder: Path) -> int | None:
    """The pid of the runner holding the data folder's lock, if one does (it writes its pid into the lock file)."""
    from workbench.jobs import runner_lock

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(folder))
        if not runner_lock.runner_running():
            return None
    try:
        return int((folder / "runner.lock").read_text().strip())
    except (OSError, ValueError):
        return None
