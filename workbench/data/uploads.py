"""Uploads, kept on the server exactly as they arrived under a name made from their content hash (the user's file
name is only a label, never a path), and the size limit the admin sets (``WORKBENCH_MAX_DATASET_MB``)."""

import hashlib
import os
import re
from pathlib import Path

from workbench import paths
from workbench.errors import UserError, disk_space


SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".tsv", ".parquet", ".txt")
DEFAULT_MAX_MB = 200.0


def max_dataset_bytes() -> int:
    """The size limit for one dataset file, from ``WORKBENCH_MAX_DATASET_MB`` (default 200 MB)."""
    try:
        megabytes = float(os.environ.get("WORKBENCH_MAX_DATASET_MB") or DEFAULT_MAX_MB)
    except ValueError:
        megabytes = DEFAULT_MAX_MB
    return int(megabytes * 1024 * 1024)


def check_size(size: int) -> None:
    """Raise a UserError naming both sizes when a file is over the limit."""
    limit = max_dataset_bytes()
    if size > limit:
        raise UserError(
            f"The file is {size / 2**20:.1f} MB, more than this server's limit of {limit / 2**20:.0f} MB; split it "
            "into smaller files, or ask the admin to raise WORKBENCH_MAX_DATASET_MB."
        )


def label_of(file_name: str) -> str:
    """A safe short label from a user's file name (never used as a path on its own)."""
    stem = Path(file_name.replace("\\", "/")).name
    for suffix in SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.")[:40] or "data"


def suffix_of(file_name: str) -> str:
    suffix = Path(file_name).suffix.lower()
    return suffix if suffix in SUFFIXES else ".dat"


def save_upload(file_name: str, content: bytes) -> Path:
    """Store uploaded bytes as they arrived, under a name made from their hash; the user's name is only a label."""
    check_size(len(content))
    digest = hashlib.sha256(content).hexdigest()[:16]
    target = paths.uploads_dir() / f"{label_of(file_name)}-{digest}{suffix_of(file_name)}"
    if not target.exists():
        with disk_space("saving the upload"):
            write_atomically(target, content)
    return target


def write_atomically(target: Path, content: bytes, read_only: bool = False) -> None:
    """Write ``target`` whole or not at all: a failed write (a full disk) leaves nothing behind."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(content)
        if read_only:
            tmp.chmod(0o444)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
