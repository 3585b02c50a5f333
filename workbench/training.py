"""The training process: ``python -m workbench.training RUN_DIR`` runs one SFT job described by its run directory.

The runner starts it (through ``accelerate launch``) in its own process group. It reads config.yaml, trains with
TRL's SFTTrainer, writes progress, metrics and sealed checkpoints as it goes, saves the adapter, scores the held-out
set, and always ends with a final state and a one-sentence reason in status.json. On a CUDA out-of-memory error it
retries with a smaller micro-batch (and more accumulation), then gradient checkpointing, then a shorter max length.
SIGTERM asks it to stop at the next step and save what it has.
"""

import dataclasses
import gc
import json
import random
import shutil
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import checkpoints, data, failures, jobs, models, paths, record, runs, sft
from workbench.config import RunConfig
from workbench.errors import UserError


MAX_EXACT_MATCH_ROWS = 100
RESUME_FILE = "resume.json"


@dataclass
class Inputs:
    """Everything loaded once per process and shared by every retry."""

    device: models.DeviceInfo
    model_path: str
    train_rows: list[dict]
    eval_rows: list[dict]
    tokenizer: Any


def main(run_dir: Path) -> int:
    """Run the job; returns the process exit code (0 on success or a clean cancel)."""
    stop_requested = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    runs.update_status(run_dir, state="running", started_at=time.time(), message="Loading the model and data.")
    retries: list[dict] = []
    code = ""
    try:
        state, message = train_with_retries(run_dir, stop_requested, retries)
    except UserError as error:
        state, message, code = "failed", str(error), "bad_input"
    except Exception as error:  # noqa: BLE001 - every failure must end as a readable status, never a stuck run
        traceback.print_exc()
        failure = failures.classify_exception(error)
        state, message, code = "failed", failure.message, failure.code
    record.finish_record(run_dir, state, code, retries, safe_peak_gb())
    runs.update_status(run_dir, state=state, message=message, failure=code, finished_at=time.time())
    print(f"Run finished: {state}. {message}", flush=True)
    return 0 if state in ("succeeded", "cancelled") else 1


def train_with_retries(run_dir: Path, stop_requested: threading.Event, retries: list[dict]) -> tuple[str, str]:
    config = RunConfig.load(run_dir / paths.CONFIG_FILE).check()
    inputs = load_inputs(run_dir, config)
    resume_from = take_resume_request(run_dir)
    while True:
        try:
            return train_once(run_dir, config, inputs, stop_requested, resume_from)
        except Exception as error:
            smaller = smaller_config(config) if failures.is_cuda_oom(error) else None
            if smaller is None:
                raise
            change, config = smaller
            retries.append({"after_step": runs.read_progress(run_dir).step, "change": change})
            print(f"CUDA out of memory; retrying: {change}", flush=True)
            runs.update_status(run_dir, message=f"Out of GPU memory; retrying: {change}.", retries=retries)
            config.save(run_dir / paths.CONFIG_FILE)
            shutil.rmtree(run_dir / paths.CHECKPOINTS_DIR, ignore_errors=True)
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


def load_inputs(run_dir: Path, config: RunConfig) -> Inputs:
    device = models.device_info()
    print(f"Device: {device.name}", flush=True)
    model_path = models.resolve_model(
        config.model, progress=lambda fraction, text: runs.update_status(run_dir, message=text)
    )
    train_rows = data.load_rows(config.dataset)
    eval_rows = data.eval_rows_for(config.dataset, config.eval_dataset)
    if not eval_rows and config.validation_fraction > 0:
        train_rows, eval_rows = split_rows(train_rows, config.validation_fraction, config.seed)
    dataset_path = data.resolve_dataset(config.dataset)
    job = jobs.find_job(run_dir.name)
    owner = runs.read_status(run_dir).get("owner", "")
    estimate = job.peak_gb if job else None
    record.start_record(run_dir, dataset_path, len(train_rows), device.name, device.cuda, owner, estimate)
    return Inputs(device, model_path, train_rows, eval_rows, models.load_tokenizer(model_path))


def split_rows(rows: list[dict], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    held_out = max(1, round(len(rows) * fraction))
    return shuffled[held_out:], shuffled[:held_out]


def train_once(
    run_dir: Path, config: RunConfig, inputs: Inputs, stop_requested: threading.Event, resume_from: Path | None
) -> tuple[str, str]:
    from datasets import Dataset
    from trl import SFTTrainer

    from workbench.callbacks import RunDirectoryCallback, SampleAnswersCallback
    from workbench.faults import fault_callbacks

    model = models.load_model(inputs.model_path, config.method, inputs.device.cuda)
    print(f"Loaded {inputs.model_path} for {config.method}: {models.describe_weights(model)}", flush=True)
    if config.method == "freeze":
        trainable = sft.freeze_all_but_last_layers(model, config.freeze_trainable_layers)
        print(
            f"Training the last {config.freeze_trainable_layers} layers: {trainable / 1e6:.2f}M parameters", flush=True
        )
    eval_rows, tokenizer = inputs.eval_rows, inputs.tokenizer
    scored = [row for row in eval_rows if "messages" in row]  # plain-text rows have no answer to score
    if scored and not resume_from:
        write_eval(run_dir, score_exact_match(model, tokenizer, scored, config), None)

    if resume_from:
        print(f"Resuming from {resume_from.name}", flush=True)
    runs.update_status(run_dir, message=f"Resuming from {resume_from.name}." if resume_from else "Training.")
    trainer = SFTTrainer(
        model=model,
        args=sft.sft_config(config, run_dir, len(inputs.train_rows), bool(eval_rows), inputs.device.cuda),
        train_dataset=Dataset.from_list(inputs.train_rows),
        eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
        processing_class=tokenizer,
        peft_config=sft.lora_config(config),
        callbacks=[
            RunDirectoryCallback(run_dir, stop_requested),
            *([SampleAnswersCallback(run_dir, tokenizer, scored, config.max_new_tokens_eval)] if scored else []),
            *sft.callbacks(config, bool(eval_rows)),
            *fault_callbacks(config.per_device_train_batch_size),
        ],
    )
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    save_output(trainer, tokenizer, run_dir)
    if stop_requested.is_set():
        return "cancelled", f"Cancelled at step {trainer.state.global_step}; the adapter trained so far was saved."
    if scored:
        runs.update_status(run_dir, message="Scoring the held-out set.")
        tuned_score = score_exact_match(trainer.model, tokenizer, scored, config)
        write_eval(run_dir, previous_base_score(run_dir), tuned_score)
    return "succeeded", "Training finished and the adapter was saved."


def take_resume_request(run_dir: Path) -> Path | None:
    """The sealed checkpoint a resume asked for, or None; a request for anything else is refused."""
    request = run_dir / RESUME_FILE
    if not request.is_file():
        return None
    name = json.loads(request.read_text(encoding="utf-8")).get("checkpoint", "")
    request.unlink()
    checkpoint = run_dir / paths.CHECKPOINTS_DIR / Path(name).name
    if not checkpoints.is_sealed(checkpoint, run_dir.name):
        raise UserError(f"The checkpoint {name} was not written by this server or has changed; start the run again.")
    return checkpoint


def save_output(trainer: Any, tokenizer: Any, run_dir: Path) -> None:
    """Save the adapter (or the full model) with the tokenizer and chat template, atomically."""
    final = run_dir / paths.ADAPTER_DIR
    partial = run_dir / f".{paths.ADAPTER_DIR}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    trainer.save_model(str(partial))
    tokenizer.save_pretrained(str(partial))
    shutil.rmtree(final, ignore_errors=True)
    partial.replace(final)


def score_exact_match(model: Any, tokenizer: Any, rows: list[dict], config: RunConfig) -> dict[str, Any]:
    from workbench.evaluation import evaluate_exact_match

    result = evaluate_exact_match(model, tokenizer, rows[:MAX_EXACT_MATCH_ROWS], config.max_new_tokens_eval)
    return {
        "exact_match": result.score,
        "n": result.n,
        "checked": result.checked,
        "ran_on": result.ran_on,
        "examples": [list(example) for example in result.examples[:20]],
    }


def write_eval(run_dir: Path, base: dict[str, Any] | None, tuned: dict[str, Any] | None) -> None:
    (run_dir / paths.EVAL_FILE).write_text(json.dumps({"base": base, "tuned": tuned}, indent=1), encoding="utf-8")


def previous_base_score(run_dir: Path) -> dict[str, Any] | None:
    return (runs.read_eval(run_dir) or {}).get("base")


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


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
