"""The run directory protocol: every file name in a run folder, creating and finding runs, and typed readers and
writers for the status (``held_out_scores`` has those of the scores). A run directory is the only channel between
the processes: the web app and the command line create it and read it, the runner and the training process write it
(ARCHITECTURE.md has which process writes which file). No reader here fails on what it finds: broken files read as
empty or unreadable."""

import dataclasses
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench import paths
from workbench.config import RunConfig
from workbench.errors import UserError, disk_space
from workbench.runs.jsonl import read_json_lines


CONFIG_FILE = "config.yaml"
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
LOG_FILE = "train.log"
BACKEND_LOG_FILE = "backend.log"  # a cluster's own log of the job (Slurm's batch output, Ray's job log)
SCORES_FILE = "eval.json"
ADAPTER_DIR = "adapter"
FINAL_ADAPTER_DIR = "adapter-final"  # the adapter training saved, kept here while a checkpoint is promoted
PROMOTED_FILE = "promoted.json"  # which checkpoint is the run's model, when one was promoted
CHECKPOINTS_DIR = "checkpoints"
RECORD_FILE = "run.json"
SAMPLES_FILE = "samples.jsonl"
RESUME_FILE = "resume.json"
MERGED_DIR = "merged"
MERGE_TASK = "merge"  # the merge's background-task files (results/background.py): merge.json, .log, .lock, .start
EVALUATING_TASK = "evaluating"  # an evaluation started from the Runs page: evaluating.json, .log, .lock, .start
JUDGING_TASK = "judging"  # a judgement started from the Runs page: judging.json, .log, .lock, .start
SPACE_RESERVE_FILE = ".space-reserve"  # freed by the training process on a full disk, to write how it ended

FINISHED_STATES = ("succeeded", "failed", "cancelled", "interrupted")
RUN_ID = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass
class Run:
    """One run directory on disk."""

    run_id: str
    path: Path
    config: RunConfig = field(repr=False)

    @property
    def adapter_dir(self) -> Path:
        return self.path / ADAPTER_DIR

    @property
    def output(self) -> str | None:
        """What training saved: "adapter" (LoRA, QLoRA), "model" (full and freeze save every weight), or None."""
        if (self.adapter_dir / "adapter_config.json").is_file():
            return "adapter"
        return "model" if (self.adapter_dir / "config.json").is_file() else None

    has_output = property(lambda self: self.output is not None)
    is_adapter = property(lambda self: self.output == "adapter")


def new_run_id(config: RunConfig) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = config.run_name or Path(config.model.rstrip("/")).name or "run"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:40] or "run"
    return f"{stamp}-{slug}"


def create_run(config: RunConfig, **status: Any) -> Run:
    """Make a fresh run directory holding the config and a queued status (with ``status`` fields such as the
    owner); the run id is unique even within one second. A folder that cannot be completed (a full disk) is
    removed again, so no half-made run is ever listed."""
    base = new_run_id(config)
    for attempt in range(1000):
        run_id = base if attempt == 0 else f"{base}-{attempt}"
        path = paths.runs_dir() / run_id
        try:
            path.mkdir()
        except FileExistsError:
            continue
        try:
            with disk_space("creating the run"):
                config.save(path / CONFIG_FILE)
                write_status(
                    path,
                    {
                        "state": "queued",
                        "message": "Waiting for the runner to start this run.",
                        "queued_at": time.time(),
                        **status,
                    },
                )
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return Run(run_id, path, config)
    raise UserError("Could not create a run folder; delete old runs or choose another run name.")


def run_dir(run_id: str) -> Path:
    """Where the run ``run_id`` lives (whether or not it exists)."""
    return paths.runs_dir() / run_id


def get_run(run_id: str) -> Run:
    path = run_dir(run_id)
    if not RUN_ID.fullmatch(run_id) or not (path / CONFIG_FILE).is_file():
        raise UserError(f"There is no run called '{run_id}'; pick one from the Runs page.")
    return Run(run_id, path, RunConfig.load(path / CONFIG_FILE))


def list_runs() -> list[Run]:
    """All runs, newest first."""
    runs = []
    for path in sorted(paths.runs_dir().iterdir(), reverse=True):
        if (path / CONFIG_FILE).is_file():
            try:
                runs.append(Run(path.name, path, RunConfig.load(path / CONFIG_FILE)))
            except UserError:
                continue
    return runs


@dataclass(frozen=True)
class Status:
    """``status.json``: where a run stands. The training process and the runner write it; everyone else reads it."""

    state: str = "queued"
    message: str = ""
    owner: str = ""  # who queued the run
    step: int = 0
    max_steps: int = 0
    epoch: float = 0.0
    num_epochs: float = 0.0
    steps_this_attempt: int = 0  # the runner shares a GPU only once every running job has taken a step
    queued_at: float | None = None  # when it last entered the queue (to start or to resume)
    started_at: float | None = None
    finished_at: float | None = None
    updated_at: float | None = None
    failure: str = ""  # a failure code (workbench.training.failures) when the run failed
    last_checkpoint: str = ""
    retries: tuple[dict[str, Any], ...] = ()
    estimated_peak_gb: float | None = None  # the pre-flight estimate the job was queued with
    memory_gb: float | None = None  # what the training process holds now...
    memory_place: str = ""  # ...and where: "GPU memory" on CUDA, "RAM" on a CPU
    parent: str = ""  # the run whose settings this one was started from (Train again), if any

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def fraction(self) -> float:
        if self.state == "succeeded":
            return 1.0
        return min(1.0, self.step / self.max_steps) if self.max_steps else 0.0

    def elapsed_s(self) -> float:
        if not self.started_at:
            return 0.0
        return (self.finished_at or time.time()) - self.started_at

    def eta_s(self) -> float | None:
        """Seconds left at the pace so far; None until a step has been taken."""
        if self.state != "running" or self.step <= 0 or not self.max_steps:
            return None
        return max(0.0, self.elapsed_s() / self.step * (self.max_steps - self.step))


STATUS_FIELDS = {spec.name: spec for spec in dataclasses.fields(Status)}


UNREADABLE = "unreadable"  # the state of a run whose status.json is not a JSON object


def read_status(run_dir: Path) -> Status:
    """The run's status; a missing file reads as queued, a broken one as ``unreadable`` with a sentence. Values of
    the wrong type fall back to their defaults, so no reader ever fails on what it finds."""
    path = run_dir / STATUS_FILE
    if not path.exists():
        return Status()
    values = read_json(path)
    if not isinstance(values, dict):
        message = "The run's status file (status.json) is unreadable; the job list above says how the job stands."
        return Status(state=UNREADABLE, message=message)
    typed = {}
    for name, spec in STATUS_FIELDS.items():
        if name in values:
            value = _typed(values[name], spec.default)
            typed[name] = value if value is not None or spec.default is None else spec.default
    return Status(**typed)


def _typed(value: Any, default: Any) -> Any:
    """``value`` as the type of ``default`` (None stays None where None is the default), else the default."""
    try:
        if default is None:
            return None if value is None else float(value)
        if isinstance(default, tuple):
            return tuple(item for item in value if isinstance(item, dict))
        return type(default)(value)
    except (TypeError, ValueError):
        return default


def write_status(run_dir: Path, status: dict[str, Any]) -> None:
    """Replace status.json atomically, so a reader never sees half a file (a failed write leaves the old one)."""
    unknown = set(status) - set(STATUS_FIELDS)
    if unknown:
        raise TypeError(f"status.json has no field(s) {', '.join(sorted(unknown))}")
    tmp = run_dir / f".{STATUS_FILE}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps({**status, "updated_at": time.time()}), encoding="utf-8")
        os.replace(tmp, run_dir / STATUS_FILE)
    finally:
        tmp.unlink(missing_ok=True)


def update_status(run_dir: Path, **changes: Any) -> Status:
    """Change some fields of status.json and keep the others. Over an unreadable file it starts afresh: the only
    writer that gives no state is the training process, so the state then is "running"."""
    current = read_status(run_dir)
    kept = dataclasses.asdict(current) if current.state != UNREADABLE else {"state": "running"}
    write_status(run_dir, {**kept, **changes})
    return read_status(run_dir)


def append_metrics(run_dir: Path, record: dict[str, Any]) -> None:
    with open(run_dir / METRICS_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Every complete metrics line; a half-written last line is skipped, not an error."""
    return [record for record in read_json_lines(run_dir / METRICS_FILE) if "step" in record]


def tail_log(run_dir: Path, max_chars: int = 20_000, name: str = LOG_FILE) -> str:
    """The end of train.log (or of the run's log file ``name``; at most ``max_chars``), undecodable bytes
    replaced."""
    try:
        with open(run_dir / name, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - max_chars))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
