"""The one runner of a data folder: its lock (held for the runner's life), whether one is running, and starting one
on demand (the web app and the command line do, unless a service manager runs it)."""

import os
import sys
from pathlib import Path

from workbench import paths
from workbench.jobs import processes


def lock_path() -> Path:
    return paths.workbench_home() / "runner.lock"


def try_lock() -> int | None:
    """Take the runner lock for the life of this process; None when another runner holds it."""
    return processes.try_lock(lock_path())


def runner_running() -> bool:
    return processes.lock_held(lock_path())


def start_allowed() -> bool:
    """Whether the app may start a runner itself (``WORKBENCH_START_RUNNER``, on unless it is ``0``: off when a
    service manager such as systemd runs ``workbench runner``)."""
    return os.environ.get("WORKBENCH_START_RUNNER", "1") != "0"


def ensure_runner() -> bool:
    """Start a detached runner when none is running; returns True when one was started."""
    if runner_running():
        return False
    command = [sys.executable, "-m", "workbench.cli", "runner"]
    idle_exit = os.environ.get("WORKBENCH_RUNNER_IDLE_EXIT")
    if idle_exit:
        command += ["--idle-exit", idle_exit]
    processes.spawn_detached(command, paths.runner_log_path())
    return True
