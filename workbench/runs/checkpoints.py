"""Checkpoints the workbench wrote itself: finding the last complete one to resume from, listing them as results
(each one a model to evaluate or promote), and which one, if any, was promoted to be the run's model.

A checkpoint folder holds pickled optimizer and RNG state, which ``torch.load`` would execute, so a run only ever
resumes from a checkpoint that carries our seal: a ``workbench-seal.json`` listing the SHA-256 of every file,
written by the training process right after the trainer saved the checkpoint. A folder without a seal (half
written, or put there by someone else) or whose files changed since is ignored.
"""

import json
import re
from pathlib import Path

from workbench.runs.directory import CHECKPOINTS_DIR, PROMOTED_FILE
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
    for checkpoint in reversed(_numbered(run_dir)):
        if is_sealed(checkpoint, run_dir.name, verify):
            return checkpoint
    return None


def saved_models(run_dir: Path) -> list[Path]:
    """The run's sealed checkpoints that hold a model to answer with (weights in safetensors, never a pickle),
    oldest first. Their seals are read, not re-verified: loading safetensors runs no code."""
    return [
        checkpoint
        for checkpoint in _numbered(run_dir)
        if is_sealed(checkpoint, run_dir.name, verify=False) and any(checkpoint.glob("*.safetensors"))
    ]


def saved_model(run_dir: Path, step: int) -> Path | None:
    """The checkpoint of ``step`` when it is one of the run's ``saved_models``, else None."""
    return next((path for path in saved_models(run_dir) if checkpoint_step(path) == step), None)


def promoted_step(run_dir: Path) -> int | None:
    """The step of the checkpoint promoted to be the run's model, or None when the run answers with the model
    training saved at its end (also when the record is unreadable: the adapter folder is what answers either way)."""
    try:
        step = json.loads((run_dir / PROMOTED_FILE).read_text(encoding="utf-8")).get("step")
    except (OSError, ValueError, AttributeError):
        return None
    return step if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else None


def _numbered(run_dir: Path) -> list[Path]:
    folder = run_dir / CHECKPOINTS_DIR
    if not folder.is_dir():
        return []
    return sorted((path for path in folder.iterdir() if checkpoint_step(path) >= 0), key=checkpoint_step)
