"""The run record: what ran, on what, for whom, and for how long, saved as run.json in the run directory."""

import hashlib
import json
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from workbench import people


PACKAGES = ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "bitsandbytes")
RECORD_FILE = "run.json"


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
    run_dir: Path, dataset_path: Path, rows: int, device_name: str, cuda: bool, owner: str
) -> dict[str, Any]:
    """Write the record at the start of training; ``finish_record`` completes it."""
    record = {
        "dataset": {"path": str(dataset_path), "sha256": file_sha256(dataset_path), "rows": rows},
        "packages": package_versions(),
        "python": platform.python_version(),
        "device": device_name,
        "gpu": cuda,
        "started_by": owner,
        "process_user": people.server_user(),
        "started_at": time.time(),
    }
    _write(run_dir, record)
    return record


def finish_record(run_dir: Path, state: str, failure_code: str = "", retries: list[dict] | None = None) -> None:
    record = read_record(run_dir)
    if not record:
        return
    finished = time.time()
    hours = (finished - record["started_at"]) / 3600
    record.update(state=state, failure=failure_code, finished_at=finished, hours=round(hours, 4))
    record["gpu_hours"] = round(hours, 4) if record.get("gpu") else 0.0
    record["retries"] = retries or []
    _write(run_dir, record)


def read_record(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _write(run_dir: Path, record: dict[str, Any]) -> None:
    tmp = run_dir / f".{RECORD_FILE}.tmp"
    tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
    tmp.replace(run_dir / RECORD_FILE)


def record_facts(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The run record as (label, value) lines a person can read; empty for a run that never started training."""
    if not record:
        return []
    dataset = record.get("dataset", {})
    facts = [
        ("Started by", record.get("started_by") or record.get("process_user") or "unknown"),
        ("Device", record.get("device", "unknown")),
        ("Started", _when(record.get("started_at"))),
        ("Finished", _when(record.get("finished_at"))),
        ("Hours", f"{record['hours']:.3f}" if "hours" in record else "still running"),
        ("GPU-hours", f"{record.get('gpu_hours', 0.0):.3f}"),
        ("Dataset", f"{dataset.get('path', '?')} ({dataset.get('rows', '?')} rows)"),
        ("Dataset SHA-256", dataset.get("sha256", "?")),
        ("Python", record.get("python", "?")),
        *((name, version) for name, version in record.get("packages", {}).items()),
    ]
    for retry in record.get("retries", []):
        facts.append(("Retried", f"after step {retry.get('after_step', '?')}: {retry.get('change', '?')}"))
    return facts


def _when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else "not yet"
