"""The training process: ``python -m workbench.training RUN_DIR`` runs one SFT job described by its run directory.

The runner starts it (through ``accelerate launch``) in its own process group. It reads config.yaml, trains with
TRL's SFTTrainer (one attempt: ``workbench.training.attempt``), and always ends with a final state and a
one-sentence reason in status.json and the run record. On a CUDA out-of-memory error it retries with a smaller
micro-batch (and more accumulation), then gradient checkpointing, then a shorter max length. SIGTERM asks it to stop
at the next step and save what it has.
"""

import dataclasses
import gc
import json
import os
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.runs import checkpoints, directory, record
from workbench.training import distributed, failures
from workbench.training.attempt import load_inputs, train_once
from workbench.training.phases import PhaseClock


RESERVE_BYTES = 256 * 1024  # enough for the final status.json and run.json


def main(run_dir: Path) -> int:
    """Run the job; returns the process exit code (0 on success or a clean cancel)."""
    stop_requested = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    if not distributed.is_main():
        return train_beside(run_dir, stop_requested)
    reserve_space(run_dir)
    retries: list[dict] = []
    code = ""
    clock = PhaseClock()
    queued_at = directory.read_status(run_dir).queued_at
    if queued_at is not None:  # the runner's pick-up, this process's start and any wait behind other runs
        clock.add("waiting in the queue", time.time() - queued_at)
    try:
        directory.update_status(
            run_dir, state="running", started_at=time.time(), message="Loading the model and data."
        )
        state, message = train_with_retries(run_dir, stop_requested, retries, clock)
    except UserError as error:
        state, message, code = "failed", str(error), "bad_input"
    except Exception as error:  # noqa: BLE001 - every failure must end as a readable status, never a stuck run
        failure = failures.classify_exception(error)
        state, message, code = "failed", failure.message, failure.code
        if code == failures.DISK_FULL.code:
            free_space(run_dir)  # first: on a full disk even the traceback cannot be written to the log
        _log(traceback.print_exc)
    _log(lambda: print(f"Run finished: {state}. {message}", flush=True))
    try:
        record.finish_record(run_dir, state, code, retries, safe_peak_gb())
        directory.update_status(run_dir, state=state, message=message, failure=code, finished_at=time.time())
    except OSError as error:  # the runner then names the failure itself
        reason = str(error)
        _log(lambda: print(f"Could not record the end of the run: {reason}", flush=True))
    (run_dir / directory.SPACE_RESERVE_FILE).unlink(missing_ok=True)
    return 0 if state in ("succeeded", "cancelled") else 1


def train_beside(run_dir: Path, stop_requested: threading.Event) -> int:
    """A data-parallel helper process (rank 1 and up): it trains its share of each batch and writes nothing; the
    main process reports how the run went."""
    config = RunConfig.load(run_dir / directory.CONFIG_FILE).check()
    inputs = load_inputs(run_dir, config)
    state, _ = train_once(run_dir, config, inputs, stop_requested, take_resume_request(run_dir, remove=False))
    return 0 if state in ("succeeded", "cancelled") else 1


def _log(write: Callable[[], None]) -> None:
    """Write to the log (this process's output) unless the disk under it is full."""
    try:
        write()
    except OSError:
        pass


def reserve_space(run_dir: Path) -> None:
    """Hold a little disk in the run folder, to be freed for the final status and record if the disk fills."""
    try:
        (run_dir / directory.SPACE_RESERVE_FILE).write_bytes(bytes(RESERVE_BYTES))
    except OSError:
        (run_dir / directory.SPACE_RESERVE_FILE).unlink(missing_ok=True)


def free_space(run_dir: Path) -> None:
    """After a full disk: drop the reserve, the half-written checkpoint and the half-saved adapter."""
    (run_dir / directory.SPACE_RESERVE_FILE).unlink(missing_ok=True)
    shutil.rmtree(run_dir / f".{directory.ADAPTER_DIR}.partial", ignore_errors=True)
    folder = run_dir / directory.CHECKPOINTS_DIR
    for checkpoint in folder.iterdir() if folder.is_dir() else ():
        if not checkpoints.is_sealed(checkpoint, run_dir.name, verify=False):
            shutil.rmtree(checkpoint, ignore_errors=True)


def train_with_retries(
    run_dir: Path, stop_requested: threading.Event, retries: list[dict], clock: PhaseClock
) -> tuple[str, str]:
    config = RunConfig.load(run_dir / directory.CONFIG_FILE).check()
    inputs = load_inputs(run_dir, config, clock)
    # Read by every process of the run; removed by this one only once they are all training (see train_once)
    resume_from = take_resume_request(run_dir, remove=distributed.world_size() == 1)
    while True:
        try:
            return train_once(run_dir, config, inputs, stop_requested, resume_from)
        except Exception as error:
            single = distributed.world_size() == 1  # the processes of a data-parallel run cannot retry in step
            smaller = smaller_config(config) if single and failures.is_cuda_oom(error) else None
            if smaller is None:
                raise
            change, config = smaller
            retries.append({"after_step": directory.read_status(run_dir).step, "change": change})
            print(f"CUDA out of memory; retrying: {change}", flush=True)
            directory.update_status(run_dir, message=f"Out of GPU memory; retrying: {change}.", retries=retries)
            config.save(run_dir / directory.CONFIG_FILE)
            shutil.rmtree(run_dir / directory.CHECKPOINTS_DIR, ignore_errors=True)
            resume_from = None
            release_memory()


def smaller_config(config: RunConfig) -> tuple[str, RunConfig] | None:
    """The next, less memory-hungry configuration after an out-of-memory error, or None when none is left."""
    if config.per_device_train_batch_size > 1:
        batch, accumulation = config.per_device_train_batch_size // 2, config.gradient_accumulation_steps * 2
        change = f"micro-batch {batch} with {accumulation}x gradient accumulation"
        return change, dataclasses.replace(
            config, per_device_train_batch_size=batch, gradient_accumulation_steps=accumulation
        )
    if not config.gradient_checkpointing:
        return "gradient checkpointing on", dataclasses.replace(config, gradient_checkpointing=True)
    if config.max_length > 256:
        length = config.max_length // 2
        return f"max length {length} tokens", dataclasses.replace(config, max_length=length)
    return None


def request_latest_resume(run_dir: Path) -> None:
    """Ask this process to resume from the last sealed checkpoint, unless a resume was asked for already. Every
    process of a data-parallel run writes the same request (atomically), before any of them can remove it."""
    latest = checkpoints.latest_checkpoint(run_dir)
    request = run_dir / directory.RESUME_FILE
    if latest is not None and not request.exists():
        partial = request.with_name(f".{request.name}.{os.getpid()}")
        partial.write_text(json.dumps({"checkpoint": latest.name}), encoding="utf-8")
        partial.replace(request)


def take_resume_request(run_dir: Path, remove: bool = True) -> Path | None:
    """The sealed checkpoint a resume asked for, or None; a request for anything else is refused. The main process
    removes the request once it has read it (``remove``), after the other processes of the run have read it too."""
    request = run_dir / directory.RESUME_FILE
    if not request.is_file():
        return None
    name = json.loads(request.read_text(encoding="utf-8")).get("checkpoint", "")
    if remove:
        request.unlink()
    checkpoint = run_dir / directory.CHECKPOINTS_DIR / Path(name).name
    if not checkpoints.is_sealed(checkpoint, run_dir.name):
        raise UserError(f"The checkpoint {name} was not written by this server or has changed; start the run again.")
    return checkpoint


def safe_peak_gb() -> float | None:
    """The measured peak for the run record, or None when it cannot be read (e.g. after a broken CUDA context)."""
    import torch

    try:
        return record.measured_peak_gb(torch.cuda.is_initialized())
    except Exception:  # noqa: BLE001 - a failed reading must not hide why the run ended
        return None


def release_memory() -> None:
    """Free what a failed attempt held, and start the peak-memory count again for the retry."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
