"""The run record: what ran, on what, for whom, and for how long, saved as run.json in the run directory."""

import hashlib
import json
import os
import platform
import resource
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from workbench import words
from workbench.runs.directory import RECORD_FILE
from workbench.team.identity import server_user


PACKAGES = ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "bitsandbytes")
GIB = 2**30  # "GB" in the app, as in the pre-flight estimate


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def start_record(
    run_dir: Path,
    dataset_path: Path,
    rows: int,
    device_name: str,
    cuda: bool,
    owner: str,
    estimated_peak_gb: float | None = None,
    dataset_label: str = "",
) -> dict[str, Any]:
    """Write the record at the start of training (with the pre-flight's memory estimate, when the job had one);
    ``finish_record`` completes it."""
    record = {
        "estimated_peak_gb": estimated_peak_gb,
        "dataset": {
            "path": str(dataset_path),
            "label": dataset_label,
            "sha256": file_sha256(dataset_path),
            "rows": rows,
        },
        "packages": package_versions(),
        "python": platform.python_version(),
        "device": device_name,
        "gpu": cuda,
        "gpus_given": os.environ.get("CUDA_VISIBLE_DEVICES", ""),  # by the runner, on a server with several GPUs
        "started_by": owner,
        "process_user": server_user(),
        "started_at": time.time(),
    }
    _write(run_dir, record)
    return record


def note(run_dir: Path, **facts: Any) -> None:
    """Add facts to the record of a run that has started (e.g. the chat template that trains it)."""
    record = read_record(run_dir)
    if record:
        _write(run_dir, {**record, **facts})


def memory_in_use_gb(cuda: bool) -> float:
    """What this process holds now: GPU memory reserved by torch on CUDA, else its resident memory on the host."""
    if cuda:
        import torch

        return torch.cuda.memory_reserved() / GIB
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return measured_peak_gb(cuda)
    return pages * os.sysconf("SC_PAGE_SIZE") / GIB


def measured_peak_gb(cuda: bool) -> float:
    """The most memory this training process has held: GPU memory reserved by torch on CUDA, else the process's
    peak resident memory on the host. The pre-flight estimate is checked against this."""
    if cuda:
        import torch

        return torch.cuda.max_memory_reserved() / GIB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB  # Linux reports kilobytes


def finish_record(
    run_dir: Path, state: str, failure_code: str = "", retries: list[dict] | None = None, peak_gb: float | None = None
) -> None:
    record = read_record(run_dir)
    if not record:
        return
    if peak_gb is not None or "measured_peak_gb" not in record:  # the runner, closing a crashed run, knows none
        record["measured_peak_gb"] = round(peak_gb, 2) if peak_gb is not None else None
    finished, started = time.time(), record.get("started_at")
    hours = (finished - started) / 3600 if isinstance(started, int | float) else 0.0
    record.update(state=state, failure=failure_code, finished_at=finished, hours=round(hours, 4))
    record["gpu_hours"] = round(hours, 4) if record.get("gpu") else 0.0
    record["retries"] = retries or []
    _write(run_dir, record)


def read_record(run_dir: Path) -> dict[str, Any]:
    """The run record, or {} when there is none or it is not a readable JSON object."""
    try:
        record = json.loads((run_dir / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write(run_dir: Path, record: dict[str, Any]) -> None:
    tmp = run_dir / f".{RECORD_FILE}.tmp"
    try:
        tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
        tmp.replace(run_dir / RECORD_FILE)
    finally:
        tmp.unlink(missing_ok=True)


def record_facts(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The run record as (label, value) lines a person can read; empty for a run that never started training, and
    one line saying so for a record whose values are garbage."""
    if not record:
        return []
    try:
        return _facts(record)
    except (TypeError, ValueError, AttributeError):
        return [("Run record", "unreadable: run.json holds values of the wrong kind")]


def _dataset_name(dataset: dict[str, Any]) -> str:
    """The label the run was started with; a record from before labels were kept names the file, not its path."""
    return dataset.get("label") or Path(str(dataset.get("path", "?"))).name


def _rows(rows: Any) -> str:
    return words.plural(rows, "row") if isinstance(rows, int) else "? rows"


def _facts(record: dict[str, Any]) -> list[tuple[str, str]]:
    dataset = record.get("dataset", {})
    facts = [
        ("Started by", record.get("started_by") or record.get("process_user") or "unknown"),
        ("Device", record.get("device", "unknown")),
        ("Chat template", f"{record['chat_template']}; reasoning blocks: {record.get('reasoning', 'drop')}")
        if record.get("chat_template")
        else ("Chat template", "not recorded"),
        ("Started", _when(record.get("started_at"))),
        ("Finished", _when(record.get("finished_at"))),
        ("Hours", f"{record['hours']:.3f}" if "hours" in record else "still running"),
        ("GPU-hours", f"{record.get('gpu_hours', 0.0):.3f}"),
        ("Peak memory", _memory_fact(record)),
        ("Dataset", f"{_dataset_name(dataset)} ({_rows(dataset.get('rows'))})"),
        ("Dataset SHA-256", dataset.get("sha256", "?")),
        ("Python", record.get("python", "?")),
        *((name, version) for name, version in record.get("packages", {}).items()),
    ]
    for retry in record.get("retries", []):
        facts.append(("Retried", f"after step {retry.get('after_step', '?')}: {retry.get('change', '?')}"))
    facts += [_speedup_fact(choice) for choice in record.get("speedups", []) if isinstance(choice, dict)]
    if spent := phases(record):
        facts.append(("Where the time went", _phases_fact(spent)))
    return facts


def _speedup_fact(choice: dict[str, Any]) -> tuple[str, str]:
    """One choice of the speed recipe (``workbench.training.speedups``): ('Liger kernels', 'not used: ...')."""
    return str(choice.get("name", "?")), f"{'used' if choice.get('used') else 'not used'}: {choice.get('reason', '')}"


def phases(record: dict[str, Any]) -> dict[str, float]:
    """Where the run's time went, phase by phase in seconds; empty when not recorded (or not numbers)."""
    values = record.get("phases")
    if not isinstance(values, dict):
        return {}
    return {str(name): float(seconds) for name, seconds in values.items() if isinstance(seconds, int | float)}


def _phases_fact(phases: dict[str, Any]) -> str:
    """'training 12.3 s (61%), loading the model 2.0 s (10%), ...', the longest first."""
    total = sum(float(seconds) for seconds in phases.values()) or 1.0
    ordered = sorted(phases.items(), key=lambda item: -float(item[1]))
    return ", ".join(f"{name} {float(seconds):.1f} s ({float(seconds) / total:.0%})" for name, seconds in ordered)


def _memory_fact(record: dict[str, Any]) -> str:
    where = "GPU, reserved by torch" if record.get("gpu") else "host, the training process"
    estimate, measured = record.get("estimated_peak_gb"), record.get("measured_peak_gb")
    parts = [f"estimated {estimate:.1f} GB before start" if estimate is not None else "no estimate"]
    unmeasured = "not measured" if record.get("finished_at") else "not measured yet"
    parts.append(f"measured {measured:.1f} GB ({where})" if measured is not None else unmeasured)
    return ", ".join(parts)


def _when(timestamp: float | None) -> str:
    return words.clock(timestamp, seconds=True, never="not yet")
