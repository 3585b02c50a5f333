"""Merged-model export: the adapter folded into its base model's weights, saved as one ordinary model folder.

A merged folder loads with ``AutoModelForCausalLM.from_pretrained`` alone (no peft), which is what serving tools
such as vLLM, TGI or a GGUF conversion expect. Merging runs on the CPU in the base model's own number format
(``dtype="auto"``): it needs about the model's size in host memory, and none of the GPU that training jobs share.
A QLoRA adapter is merged into the full-precision base, not the 4-bit one (the usual practice), so the merged model
is close to, not identical with, the 4-bit model that was trained and scored.

From the app the merge runs in a detached process (``workbench export RUN_ID --merged``). That process holds
``merge.lock`` in the run directory while it works, so one run is never merged twice at once, and records where it
stands in ``merge.json`` (with its pid and start time), so that a reload or a web-server restart loses nothing.
"""

import errno
import fcntl
import json
import os
import shutil
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import UserError
from workbench.jobs import control, processes
from workbench.models import loading
from workbench.models.rendering import RENDERING_FILE
from workbench.results import model_card
from workbench.runs.directory import MERGE_LOCK_FILE, MERGE_LOG_FILE, MERGE_STATE_FILE, MERGED_DIR, Run
from workbench.team import access, audit
from workbench.team.identity import Actor


MERGE_STATES = ("running", "succeeded", "failed")
MARKER_FILE = ".workbench-merged"  # marks a folder a merge wrote, the only kind a new merge may replace
START_TIMEOUT_S = 60.0  # a merge recorded as starting whose process never reported is treated as failed
# Streamlit holds a download in the web server's memory (about three copies while it is built), so larger merged
# folders are copied from the server's disk instead.
BROWSER_DOWNLOAD_LIMIT_BYTES = 1024**3


@dataclass(frozen=True)
class MergeState:
    """Where the merge of one run stands: idle (never started), running, succeeded, failed, or outdated (it
    succeeded, but the adapter has changed since, e.g. because the run was resumed)."""

    state: str
    message: str = ""
    size_bytes: int = 0


def merged_dir(run: Run) -> Path:
    return run.path / MERGED_DIR


def check_mergeable(run: Run) -> None:
    """Raise a UserError saying why this run has nothing to merge, if it has not."""
    if not run.has_output:
        raise UserError(f"The run {run.run_id} has no trained adapter yet; merge it once it has finished.")
    if not run.is_adapter:
        raise UserError(f"The run {run.run_id} trained every weight, so it already is a whole model; download it.")


def merge_into_base(run: Run, target: Path | None = None, progress: Callable[[str], None] = print) -> Path:
    """Fold the run's adapter into its base model and save the result (weights as safetensors, the tokenizer
    with the training chat template) in ``target``, by default ``merged/`` in the run directory. An existing
    ``target`` is replaced only when an earlier merge wrote it."""
    check_mergeable(run)
    target = check_target(target or merged_dir(run))
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        progress("Loading the base model on the CPU")
        model = _merged_model(run)
        progress("Saving the merged weights")
        model.save_pretrained(staging)
        loading.load_tokenizer(str(run.adapter_dir)).save_pretrained(staging)
        if (run.adapter_dir / RENDERING_FILE).is_file():  # how to prompt it travels with the merged model too
            shutil.copy(run.adapter_dir / RENDERING_FILE, staging / RENDERING_FILE)
        model_card.write_card(staging, run, merged=True)
        (staging / MARKER_FILE).write_text(f"{run.run_id}\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)  # a reader sees the whole folder or none
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def check_target(target: Path) -> Path:
    """The resolved target folder, or a UserError when writing there could destroy files the merge did not make."""
    target = target.expanduser().resolve()
    if target.parent == target:
        raise UserError("Give a new folder for the merged model, not the root of the file system.")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER_FILE).is_file():
        raise UserError(f"The folder {target} already holds other files; give a new or empty folder.")
    if target.exists() and not target.is_dir():
        raise UserError(f"{target} is a file; give a folder for the merged model.")
    return target


def _merged_model(run: Run) -> Any:
    from peft import PeftModel
    from transformers import AutoConfig, AutoModelForCausalLM

    base_path = loading.resolve_model(run.config.model)
    try:
        if getattr(AutoConfig.from_pretrained(base_path, **loading.NO_REMOTE_CODE), "quantization_config", None):
            raise UserError(
                f"The base model {run.config.model} is stored already quantised, so its weights cannot take the "
                "adapter; merge onto the original full-precision model, or use the adapter as it is."
            )
        base = AutoModelForCausalLM.from_pretrained(base_path, dtype="auto", **loading.NO_REMOTE_CODE)
    except OSError:
        raise loading.not_loadable(base_path) from None
    return PeftModel.from_pretrained(base, str(run.adapter_dir)).merge_and_unload()


def run_merge(run: Run, actor: Actor | None = None) -> int:
    """The body of ``workbench export --merged``: merge, recording each stage in merge.json; 0 on success."""
    with _merge_lock(run) as locked:
        if not locked:
            print(f"A merge of {run.run_id} is already running; nothing to do.")
            return 0
        audit.record(access.acting(actor).name, "export", run.run_id, "merged model")
        me = {"pid": os.getpid(), "proc_start": processes.process_start_time(os.getpid())}
        fingerprint = adapter_fingerprint(run)

        def stage(text: str) -> None:
            _write_state(run, "running", f"{text}…", **me)

        stage("Starting the merge")
        try:
            target = merge_into_base(run, progress=stage)
        except UserError as error:
            _write_state(run, "failed", str(error))
            return 2
        except Exception as error:  # noqa: BLE001 - whatever went wrong, the page must say so, not wait forever
            traceback.print_exc()
            _write_state(run, "failed", _failure_message(error))
            return 1
        _write_state(
            run, "succeeded", f"Merged model saved in {target}.", size=folder_size(target), adapter=fingerprint
        )
        return 0


def _failure_message(error: Exception) -> str:
    if isinstance(error, MemoryError):
        return "The server ran out of memory while merging; free host memory and try again."
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return "The disk is full, so the merged model could not be written; free disk space and try again."
    return f"The merge failed ({type(error).__name__}: {error}); the run folder's merge.log has the details."


def start_merge(run: Run, actor: Actor | None = None) -> None:
    """Start the merge in a detached process, unless one is already running for this run; anyone who may see the
    run may merge it."""
    actor = access.acting(actor)
    control.check_see_run(actor, run.run_id)
    check_mergeable(run)
    if merge_state(run).state == "running":
        return
    _write_state(run, "running", "Starting the merge…")  # the process adds its pid once it holds the lock
    command = [sys.executable, "-m", "workbench.cli", "--user", actor.name, "export", run.run_id, "--merged"]
    try:
        processes.spawn_detached(command, run.path / MERGE_LOG_FILE)
    except OSError as error:
        _write_state(run, "failed", f"The merge process could not start ({error}); check the server's disk.")


def merge_state(run: Run) -> MergeState:
    """The recorded state, checked against reality: a 'running' merge whose process has gone (or never came) is
    failed, and a merge of an adapter that has changed since is outdated."""
    try:
        recorded = json.loads((run.path / MERGE_STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return MergeState("idle")
    except (OSError, ValueError):
        recorded = None
    if not isinstance(recorded, dict) or recorded.get("state") not in MERGE_STATES:
        return MergeState("failed", "The merge's record (merge.json) is unreadable; merge again.")
    state, message = recorded["state"], str(recorded.get("message", ""))
    if state == "running":
        pid = recorded.get("pid")
        if isinstance(pid, int) and not processes.process_alive(pid, recorded.get("proc_start")):
            return MergeState("failed", "The merge process stopped before it finished (killed or out of memory).")
        updated = recorded.get("updated_at")
        if not pid and time.time() - (updated if isinstance(updated, int | float) else 0) > START_TIMEOUT_S:
            return MergeState("failed", "The merge process did not start; the run folder's merge.log says why.")
    if state == "succeeded" and recorded.get("adapter") != adapter_fingerprint(run):
        return MergeState("outdated", "The adapter has changed since this merge (the run went on); merge again.")
    size = recorded.get("size")
    return MergeState(state, message, size if isinstance(size, int) else 0)


def adapter_fingerprint(run: Run) -> list[list[Any]]:
    """Name, size and modification time of every adapter file: it changes when training writes a new adapter."""
    files = sorted(file for file in run.adapter_dir.glob("*") if file.is_file())
    return [[file.name, file.stat().st_size, file.stat().st_mtime_ns] for file in files]


def folder_size(folder: Path) -> int:
    return sum(file.stat().st_size for file in folder.rglob("*") if file.is_file())


@contextmanager
def _merge_lock(run: Run) -> Iterator[bool]:
    """Hold the run's merge lock for the block; yields False (and holds nothing) when another process has it."""
    with open(run.path / MERGE_LOCK_FILE, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def _write_state(run: Run, state: str, message: str, **extra: Any) -> None:
    record = {"state": state, "message": message, "updated_at": time.time(), **extra}
    path = run.path / MERGE_STATE_FILE
    staging = path.with_name(f".{MERGE_STATE_FILE}.{uuid.uuid4().hex}.tmp")  # unique: page threads may write at once
    staging.write_text(json.dumps(record), encoding="utf-8")
    os.replace(staging, path)
