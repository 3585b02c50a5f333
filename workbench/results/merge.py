"""Merged-model export: the adapter folded into its base model's weights, saved as one ordinary model folder.

A merged folder loads with ``AutoModelForCausalLM.from_pretrained`` alone (no peft), which is what serving tools
such as vLLM, TGI or a GGUF conversion expect. Merging runs on the CPU in the base model's own number format
(``dtype="auto"``): it needs about the model's size in host memory, and none of the GPU that training jobs share.
A QLoRA adapter is merged into the full-precision base, not the 4-bit one (the usual practice), so the merged model
is close to, not identical with, the 4-bit model that was trained and scored.

From the app the merge runs in a detached process (``workbench export RUN_ID --merged``), a background task
(``background.py``: ``merge.json``, ``merge.lock`` and ``merge.log`` in the run directory), so that a reload or a
web-server restart loses nothing and one run is never merged twice at once.
"""

import os
import shutil
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import UserError
from workbench.jobs import control
from workbench.models import loading
from workbench.models.rendering import RENDERING_FILE
from workbench.results import background, model_card
from workbench.runs.directory import MERGE_TASK, MERGED_DIR, Run
from workbench.team import access, audit
from workbench.team.identity import Actor


MARKER_FILE = ".workbench-merged"  # marks a folder a merge wrote, the only kind a new merge may replace
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


def merge_task(run: Run) -> background.Task:
    return background.Task.named(run.path, MERGE_TASK)


def run_merge(run: Run, actor: Actor | None = None) -> int:
    """The body of ``workbench export --merged``: merge, recording each stage in merge.json; 0 on success."""

    def work(recorder: background.Recorder) -> tuple[str, dict[str, Any]]:
        audit.record(access.acting(actor).name, "export", run.run_id, "merged model")
        fingerprint = adapter_fingerprint(run)
        target = merge_into_base(run, progress=lambda text: recorder.stage(f"{text}…"))
        return f"Merged model saved in {target}.", {"size": folder_size(target), "adapter": fingerprint}

    return background.run_recorded(merge_task(run), work)


def start_merge(run: Run, actor: Actor | None = None) -> None:
    """Start the merge in a detached process, unless one is already running for this run; anyone who may see the
    run may merge it."""
    actor = access.acting(actor)
    control.check_see_run(actor, run.run_id)
    check_mergeable(run)
    if merge_state(run).state == "running":
        return
    command = [sys.executable, "-m", "workbench.cli", f"--user={actor.name}", "export", run.run_id, "--merged"]
    background.start(merge_task(run), command)


def merge_state(run: Run) -> MergeState:
    """The recorded state, checked against reality (``background.read_state``); a merge of an adapter that has
    changed since is outdated."""
    task = background.read_state(merge_task(run))
    if task.state == "succeeded" and task.recorded.get("adapter") != adapter_fingerprint(run):
        return MergeState("outdated", "The adapter has changed since this merge (the run went on); merge again.")
    size = task.recorded.get("size")
    return MergeState(task.state, task.message, size if isinstance(size, int) else 0)


def adapter_fingerprint(run: Run) -> list[list[Any]]:
    """Name, size and modification time of every adapter file: it changes when training writes a new adapter."""
    files = sorted(file for file in run.adapter_dir.glob("*") if file.is_file())
    return [[file.name, file.stat().st_size, file.stat().st_mtime_ns] for file in files]


def folder_size(folder: Path) -> int:
    return sum(file.stat().st_size for file in folder.rglob("*") if file.is_file())
