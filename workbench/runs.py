"""The run directory: creating it, and reading what the training process writes into it.

A run directory holds ``config.yaml`` (what to do), ``status.json`` (where it stands, rewritten atomically),
``metrics.jsonl`` (append-only, one JSON object per logged step), ``train.log``, ``checkpoints/``, the final
``adapter/`` and ``eval.json``. The web app only reads these files; the training process only writes them.
"""

import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench import paths
from workbench.config import RunConfig
from workbench.errors import UserError


FINISHED_STATES = ("succeeded", "failed", "cancelled", "interrupted")


@dataclass
class Progress:
    """Where a run stands, as the progress bar shows it."""

    state: str
    step: int = 0
    max_steps: int = 0
    epoch: float = 0.0
    num_epochs: float = 0.0
    elapsed_s: float = 0.0
    eta_s: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float:
        if self.state == "succeeded":
            return 1.0
        return min(1.0, self.step / self.max_steps) if self.max_steps else 0.0


@dataclass
class Run:
    """One run directory on disk."""

    run_id: str
    path: Path
    config: RunConfig = field(repr=False)

    @property
    def adapter_dir(self) -> Path:
        return self.path / paths.ADAPTER_DIR

    @property
    def has_adapter(self) -> bool:
        return (self.adapter_dir / "adapter_config.json").is_file() or (self.adapter_dir / "config.json").is_file()


def new_run_id(config: RunConfig) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = config.run_name or Path(config.model.rstrip("/")).name or "run"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:40] or "run"
    return f"{stamp}-{slug}"


def create_run(config: RunConfig) -> Run:
    """Make a fresh run directory holding the config; the run id is unique even within one second."""
    base = new_run_id(config)
    for attempt in range(1000):
        run_id = base if attempt == 0 else f"{base}-{attempt}"
        path = paths.runs_dir() / run_id
        try:
            path.mkdir()
        except FileExistsError:
            continue
        config.save(path / paths.CONFIG_FILE)
        write_status(path, {"state": "queued", "message": "Waiting for the runner to start this run."})
        return Run(run_id, path, config)
    raise UserError("Could not create a run folder; delete old runs or choose another run name.")


def get_run(run_id: str) -> Run:
    path = paths.runs_dir() / run_id
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", run_id) or not (path / paths.CONFIG_FILE).is_file():
        raise UserError(f"There is no run called '{run_id}'; pick one from the Runs page.")
    return Run(run_id, path, RunConfig.load(path / paths.CONFIG_FILE))


def list_runs() -> list[Run]:
    """All runs, newest first."""
    runs = []
    for path in sorted(paths.runs_dir().iterdir(), reverse=True):
        if (path / paths.CONFIG_FILE).is_file():
            try:
                runs.append(Run(path.name, path, RunConfig.load(path / paths.CONFIG_FILE)))
            except UserError:
                continue
    return runs


def write_status(run_dir: Path, status: dict[str, Any]) -> None:
    """Replace status.json atomically, so a reader never sees half a file."""
    status = {**status, "updated_at": time.time()}
    tmp = run_dir / f".{paths.STATUS_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(status), encoding="utf-8")
    os.replace(tmp, run_dir / paths.STATUS_FILE)


def read_status(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / paths.STATUS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {"state": "queued"}


def update_status(run_dir: Path, **changes: Any) -> dict[str, Any]:
    status = {**read_status(run_dir), **changes}
    write_status(run_dir, status)
    return status


def append_metrics(run_dir: Path, record: dict[str, Any]) -> None:
    with open(run_dir / paths.METRICS_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Every complete metrics line; a half-written last line is skipped, not an error."""
    try:
        lines = (run_dir / paths.METRICS_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "step" in record:
            records.append(record)
    return records


def read_progress(run_dir: Path) -> Progress:
    status = read_status(run_dir)
    step, max_steps = int(status.get("step", 0)), int(status.get("max_steps", 0))
    started = status.get("started_at")
    finished = status.get("finished_at")
    elapsed = ((finished or time.time()) - started) if started else 0.0
    eta = None
    if status.get("state") == "running" and step > 0 and max_steps:
        eta = max(0.0, elapsed / step * (max_steps - step))
    return Progress(
        state=status.get("state", "queued"),
        step=step,
        max_steps=max_steps,
        epoch=float(status.get("epoch", 0.0)),
        num_epochs=float(status.get("num_epochs", 0.0)),
        elapsed_s=elapsed,
        eta_s=eta,
        message=status.get("message", ""),
    )


def read_eval(run_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((run_dir / paths.EVAL_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def tail_log(run_dir: Path, max_chars: int = 20_000) -> str:
    try:
        with open(run_dir / paths.LOG_FILE, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - max_chars))
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"
