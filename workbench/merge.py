"""Merged-model export: the adapter folded into its base model's weights, saved as one ordinary model folder.

A merged folder loads with ``AutoModelForCausalLM.from_pretrained`` alone (no peft), which is what serving tools
such as vLLM, TGI or a GGUF conversion expect. Merging runs on the CPU in the base model's own number format
(``dtype="auto"``): it needs about the model's size in host memory, and none of the GPU that training jobs share.
A QLoRA adapter is merged into the full-precision base, not the 4-bit one, so the merged weights are not rounded.

From the app the merge runs in a detached process (``workbench export RUN_ID --merged``) that records where it
stands in ``merge.json`` inside the run directory, so that a reload or a web-server restart loses nothing.
"""

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import models, runner
from workbench.errors import UserError
from workbench.runs import Run


MERGED_DIR = "merged"
STATE_FILE = "merge.json"
LOG_FILE = "merge.log"
BROWSER_DOWNLOAD_LIMIT_BYTES = 2 * 1024**3  # larger folders are fetched from the server's disk, not as one zip


@dataclass(frozen=True)
class MergeState:
    """Where the merge of one run stands: idle (never started), running, succeeded or failed."""

    state: str
    message: str = ""
    size_bytes: int = 0


def merged_dir(run: Run) -> Path:
    return run.path / MERGED_DIR


def is_adapter_run(run: Run) -> bool:
    return (run.adapter_dir / "adapter_config.json").is_file()


def check_mergeable(run: Run) -> None:
    """Raise a UserError saying why this run has nothing to merge, if it has not."""
    if not run.has_adapter:
        raise UserError(f"The run {run.run_id} has no trained adapter yet; merge it once it has finished.")
    if not is_adapter_run(run):
        raise UserError(f"The run {run.run_id} trained every weight, so it already is a whole model; download it.")


def merge_into_base(run: Run, target: Path | None = None, progress: Callable[[str], None] = print) -> Path:
    """Fold the run's adapter into its base model and save the result (weights as safetensors, the tokenizer
    with the training chat template) in ``target``, by default ``merged/`` in the run directory."""
    check_mergeable(run)
    target = target or merged_dir(run)
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    progress("Loading the base model on the CPU")
    model = _merged_model(run)
    progress("Saving the merged weights")
    model.save_pretrained(staging, safe_serialization=True)
    models.load_tokenizer(str(run.adapter_dir)).save_pretrained(staging)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)  # a reader sees the whole folder or none
    return target


def _merged_model(run: Run) -> Any:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base_path = models.resolve_model(run.config.model)
    try:
        base = AutoModelForCausalLM.from_pretrained(base_path, dtype="auto", low_cpu_mem_usage=True)
    except OSError:
        raise models.not_loadable(base_path) from None
    return PeftModel.from_pretrained(base, str(run.adapter_dir)).merge_and_unload()


def run_merge(run: Run) -> int:
    """The body of ``workbench export --merged``: merge, recording each stage in merge.json; 0 on success."""
    _write_state(run, "running", "Starting the merge.", pid=os.getpid())
    try:
        target = merge_into_base(run, progress=lambda stage: _write_state(run, "running", f"{stage}…"))
    except UserError as error:
        _write_state(run, "failed", str(error))
        return 2
    except MemoryError:
        _write_state(run, "failed", "The server ran out of memory while merging; free host memory and try again.")
        return 1
    except OSError as error:
        _write_state(run, "failed", f"The merged model could not be written ({error.strerror}); free disk space.")
        return 1
    _write_state(run, "succeeded", f"Merged model saved in {target}.", size=folder_size(target))
    return 0


def start_merge(run: Run) -> None:
    """Start the merge in a detached process, unless one is already running for this run."""
    if merge_state(run).state == "running":
        return
    check_mergeable(run)
    _write_state(run, "running", "Starting the merge.")
    command = [sys.executable, "-m", "workbench.cli", "export", run.run_id, "--merged"]
    process = runner.spawn_detached(command, run.path / LOG_FILE)
    _write_state(run, "running", "Starting the merge.", pid=process.pid)


def merge_state(run: Run) -> MergeState:
    """The recorded state; a 'running' merge whose process has gone is reported as failed."""
    try:
        recorded = json.loads((run.path / STATE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return MergeState("idle")
    state, pid = recorded.get("state", "idle"), recorded.get("pid")
    if state == "running" and pid and not runner.process_alive(int(pid), None):
        return MergeState("failed", "The merge process stopped before it finished (killed or out of memory).")
    return MergeState(state, recorded.get("message", ""), int(recorded.get("size", 0)))


def folder_size(folder: Path) -> int:
    return sum(file.stat().st_size for file in folder.rglob("*") if file.is_file())


def _write_state(run: Run, state: str, message: str, **extra: Any) -> None:
    path = run.path / STATE_FILE
    previous = {}
    if state == "running" and "pid" not in extra:
        try:
            previous = {"pid": json.loads(path.read_text(encoding="utf-8")).get("pid")}
        except (FileNotFoundError, json.JSONDecodeError):
            previous = {}
    record = {**previous, "state": state, "message": message, "updated_at": time.time(), **extra}
    staging = path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
    staging.write_text(json.dumps(record), encoding="utf-8")
    os.replace(staging, path)
