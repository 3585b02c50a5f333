"""The untrained base model's held-out score, kept once per base model, held-out conversations, chat template and
answer length, so that the second run on the same model and data does not answer the same questions again (the
answers are greedy, so they are the same). Kept under ``cache/base-scores`` in the data folder, one JSON file each."""

import dataclasses
import hashlib
import json
from pathlib import Path

from workbench import paths
from workbench.runs.held_out_scores import Score


def cache_key(model_path: str, method: str, template: str, rows: list[dict], max_new_tokens: int, device: str) -> str:
    """A digest of everything the base's answers depend on: the model's files (names, sizes and times), how it is
    loaded (QLoRA loads it in 4 bits), the chat template, the conversations, the answer length and the device (a GPU
    may round differently from the CPU)."""
    parts = {
        "model": _model_identity(model_path),
        "four_bit": method == "qlora",
        "template": template,
        "rows": rows,
        "max_new_tokens": max_new_tokens,
        "device": device,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _model_identity(model_path: str) -> list:
    folder = Path(model_path)
    if not folder.is_dir():
        return [model_path]
    files = sorted(item for item in folder.iterdir() if item.is_file())
    return [str(folder.resolve())] + [(item.name, item.stat().st_size, item.stat().st_mtime_ns) for item in files]


def _path(key: str) -> Path:
    return paths.workbench_home() / "cache" / "base-scores" / f"{key}.json"


def cached_score(key: str) -> Score | None:
    """The base's score kept under ``key``, or None when there is none (or it cannot be read)."""
    try:
        return Score.from_dict(json.loads(_path(key).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def keep_score(key: str, score: Score) -> None:
    """Keep ``score`` under ``key``; a cache that cannot be written only means the next run scores again."""
    target = _path(key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(score)), encoding="utf-8")
        tmp.replace(target)
    except OSError:
        pass
