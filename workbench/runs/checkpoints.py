"""Checkpoints the workbench wrote itself, and finding the last complete one to resume from.

A checkpoint folder holds pickled optimizer and RNG state, which ``torch.load`` would execute, so a run only ever
resumes from a checkpoint that carries our seal: a ``workbench-seal.json`` listing the SHA-256 of every file,
written by the training process right after the trainer saved the checkpoint. A folder without a seal (half
written, or put there by someone else) or whose files changed since is ignored.
"""

import json
import re
from pathlib import Path

from workbench.runs.directory import CHECKPOINTS_DIR
from workbench.runs.record import file_sha256


SEAL_FILE = "workbench-seal.json"
CHECKPOINT_NAME = re.compile(r"checkpoint-(\d+)")


def _files(checkpoint: Path) -> list[Path]:
    return sorted(path for path in checkpoint.rglob("*") if path.is_file() and path.name != SEAL_FILE)


def seal(checkpoint: Path, run_id: str) -> None:
    """Record the hash of every file of a freshly saved checkpoint."""
    hashes = {str(path.relative_to(checkpoint)): file_sha256(path) for path in _files(checkpoint)}
    tmp = checkpoint / f".{SEAL_FILE}.tmp"
    tmp.write_text(json.dumps({"run_id": run_id, "files": hashes}), encoding="utf-8")
    tmp.replace(checkpoint / SEAL_FILE)


def is_sealed(checkpoint: Path, run_id: str, verify: bool = True) -> bool:
    """True when the checkpoint carries our seal for this run and, with ``verify``, no file changed since."""
    try:
        record = json.loads((checkpoint / SEAL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict) or record.get("run_id") != run_id or not isinstance(record.get("files"), dict):
        return False
    if not verify:
        return True
    current = {str(path.relative_to(checkpoint)): path for path in _files(checkpoint)}
    return set(current) == set(record.get("files", {})) and all(
        file_sha256(current[name]) == digest for name, digest in record["files"].items()
    )


def checkpoint_step(checkpoint: Path) -> int:
    match = CHECKPOINT_NAME.fullmatch(checkpoint.name)
    return int(match.group(1)) if match else -1


def latest_checkpoint(run_dir: Path, verify: bool = True) -> Path | None:
    """The newest sealed checkpoint of a run, or None; ``verify=False`` skips re-hashing (for display only)."""
    folder = run_dir / CHECKPOINTS_DIR
    if not folder.is_dir():
        return None
    candidates = sorted((path for path in folder.iterdir() if checkpoint_step(path) >= 0), key=checkpoint_step)
    for checkpoint in reversed(candidates):
        if is_sealed(checkpoint, run_dir.name, verify):
            return checkpoint
    return None
