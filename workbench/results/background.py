"""Work the Runs page starts in a process of its own (a merge, an evaluation, a judgement), so that leaving the page,
clicking elsewhere on it or restarting the web server does not stop it.

Each task keeps three files in the run directory, named after it: ``NAME.json`` says where it stands (running with
its pid, process start time and progress; succeeded; failed with a sentence), ``NAME.lock`` is held by the process
while it works (so one run never runs the same task twice at once), and ``NAME.log`` has its output. The page reads
the state and checks it against reality: a task whose process has gone, or never came, has failed.
"""

import errno
import fcntl
import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import UserError
from workbench.jobs import processes
from workbench.runs.directory import EVALUATING_TASK, JUDGING_TASK, MERGE_TASK


STATES = ("running", "succeeded", "failed")
START_TIMEOUT_S = 60.0  # a task recorded as starting whose process never reported is treated as failed
PROGRESS_EVERY_S = 0.5  # how often a counted task rewrites its state file
# each task's name (of its files): what it is called, and what is being done to the run while it runs
TASKS = {
    MERGE_TASK: ("merge", "being merged"),
    EVALUATING_TASK: ("evaluation", "being evaluated"),
    JUDGING_TASK: ("judgement", "being judged"),
}


@dataclass(frozen=True)
class Task:
    """One kind of background work on one run: ``name`` names its files, ``what`` is said to the user."""

    folder: Path
    name: str  # "merge", "evaluating", "judging"
    what: str  # "merge", "evaluation", "judgement"

    @classmethod
    def named(cls, folder: Path, name: str) -> "Task":
        return cls(folder, name, TASKS[name][0])

    @property
    def state_path(self) -> Path:
        return self.folder / f"{self.name}.json"

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.name}.log"

    @property
    def lock_path(self) -> Path:
        return self.folder / f"{self.name}.lock"


@dataclass(frozen=True)
class TaskState:
    """Where a task stands: idle (never started), running, succeeded or failed, with a sentence and what it
    recorded (``done`` and ``total`` for counted work)."""

    state: str
    message: str = ""
    recorded: dict[str, Any] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def done(self) -> int:
        return _count(self.recorded.get("done"))

    @property
    def total(self) -> int:
        return _count(self.recorded.get("total"))


def read_state(task: Task) -> TaskState:
    """The recorded state, checked against reality: a 'running' task whose process has gone (or never came)
    has failed."""
    try:
        recorded = json.loads(task.state_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return TaskState("idle")
    except (OSError, ValueError):
        recorded = None
    if not isinstance(recorded, dict) or recorded.get("state") not in STATES:
        return TaskState("failed", f"The {task.what}'s record ({task.state_path.name}) is unreadable; start it again.")
    if recorded["state"] == "running" and not _still_running(recorded):
        return TaskState("failed", _why_it_stopped(task, recorded))
    return TaskState(recorded["state"], str(recorded.get("message", "")), recorded)


def _still_running(recorded: dict[str, Any]) -> bool:
    """Whether the process of a 'running' record lives: the pid it reported, else the pid it was started with,
    else (a record from before it was started) whether that was under START_TIMEOUT_S ago."""
    for pid_key, start_key in (("pid", "proc_start"), ("launcher", "launcher_start")):
        pid = recorded.get(pid_key)
        if isinstance(pid, int):
            return processes.process_alive(pid, recorded.get(start_key))
    updated = recorded.get("updated_at")
    return time.time() - (updated if isinstance(updated, int | float) else 0) <= START_TIMEOUT_S


def _why_it_stopped(task: Task, recorded: dict[str, Any]) -> str:
    if isinstance(recorded.get("pid"), int):
        return (
            f"The {task.what} process stopped before it finished (killed, out of memory or a full disk); the run "
            f"folder's {task.log_path.name} says more."
        )
    return f"The {task.what} process did not start; the run folder's {task.log_path.name} says why."


def already_running(task: Task, state: TaskState) -> str:
    """The sentence refusing a second start of a running task."""
    counted = f" ({state.done} of {state.total} answers done)" if state.total else ""
    return f"This run's {task.what} is already running{counted}; wait for it to end."


def check_idle(folder: Path, run_id: str) -> None:
    """Refuse (UserError) while any background task of the run in ``folder`` is running."""
    for name, (_, doing) in TASKS.items():
        if read_state(Task.named(folder, name)).running:
            raise UserError(f"The run {run_id} is {doing}; wait for that to finish first.")


def start(task: Task, command: list[str], about: dict[str, Any] | None = None) -> None:
    """Start ``command`` detached to do ``task``, recorded as running (with ``about``, what it works on, and the
    started process) until the process reports itself; refuses (UserError) while the task runs, also when two
    pages start it at the same moment."""
    about = about or {}
    try:
        with open(task.folder / f"{task.name}.start", "w") as starting:
            fcntl.flock(starting, fcntl.LOCK_EX)  # one starter at a time, each sees what the one before it wrote
            state = read_state(task)
            if state.running or processes.lock_held(task.lock_path):
                raise UserError(already_running(task, state))
            write_state(task, "running", f"Starting the {task.what}…", **about)
            _spawn(task, command, about)
    except OSError as error:
        raise UserError(
            f"The {task.what} could not start: the run folder cannot be written ({error.strerror or error}); "
            "check the server's disk."
        ) from error


def _spawn(task: Task, command: list[str], about: dict[str, Any]) -> None:
    try:
        child = processes.spawn_detached(command, task.log_path)
    except (OSError, ValueError) as error:
        write_state(task, "failed", f"The {task.what} process could not start ({error}); check the server's disk.")
        return
    launched = {"launcher": child.pid, "launcher_start": processes.process_start_time(child.pid)}
    recorded = read_state(task).recorded
    if recorded.get("state") == "running" and "pid" not in recorded:  # the process has not reported itself yet
        write_state(task, "running", f"Starting the {task.what}…", **about, **launched)


class Recorder:
    """What a running task tells its state file: a stage in words, or a count of work done."""

    def __init__(self, task: Task, about: dict[str, Any] | None = None) -> None:
        self.task = task
        self.me = {"pid": os.getpid(), "proc_start": processes.process_start_time(os.getpid()), **(about or {})}
        self.counted: dict[str, int] = {}  # the last count, kept in the outcome too
        self._written_at = 0.0

    def stage(self, text: str) -> None:
        write_state(self.task, "running", text, **self.me)

    def count(self, done: int, total: int, text: str) -> None:
        """Record ``done`` of ``total``, at most every PROGRESS_EVERY_S seconds and always at the end."""
        self.counted = {"done": done, "total": total}
        now = time.monotonic()
        if done >= total or now - self._written_at >= PROGRESS_EVERY_S:
            write_state(self.task, "running", text, done=done, total=total, **self.me)
            self._written_at = now


def run_recorded(
    task: Task, work: Callable[[Recorder], tuple[str, dict[str, Any]]], about: dict[str, Any] | None = None
) -> int:
    """The body of a task's process: ``work`` returns the sentence and extra fields to record on success, ``about``
    is recorded all along; the state file says how it went and the exit code too (0 succeeded or already running,
    2 refused, 1 failed)."""
    with open(task.lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"This run's {task.what} is already running; nothing to do.")
            return 0
        recorder = Recorder(task, about)
        recorder.stage(f"Starting the {task.what}…")
        about = about or {}
        try:
            message, extra = work(recorder)
        except UserError as error:
            print(error, file=sys.stderr)
            write_state(task, "failed", str(error), **about)
            return 2
        except Exception as error:  # noqa: BLE001 - whatever went wrong, the page must say so, not wait forever
            traceback.print_exc()
            write_state(task, "failed", failure_message(task, error), **about)
            return 1
        write_state(task, "succeeded", message, **about, **recorder.counted, **extra)
        return 0


def failure_message(task: Task, error: Exception) -> str:
    """One sentence for an unexpected failure of the task's process."""
    if isinstance(error, MemoryError):
        return f"The server ran out of memory during the {task.what}; free host memory and try again."
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return f"The disk is full, so the {task.what} could not be saved; free disk space and try again."
    details = f"the run folder's {task.log_path.name} has the details"
    return f"The {task.what} failed ({type(error).__name__}: {error}); {details}."


def write_state(task: Task, state: str, message: str, **extra: Any) -> None:
    record = {"state": state, "message": message, "updated_at": time.time(), **extra}
    staging = task.state_path.with_name(f".{task.state_path.name}.{uuid.uuid4().hex}.tmp")  # page threads write too
    staging.write_text(json.dumps(record), encoding="utf-8")
    os.replace(staging, task.state_path)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
