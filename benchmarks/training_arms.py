"""One arm of the training benchmark, run in a process of its own over each data file in turn:
``python training_arms.py ARM MODEL MAX_LENGTH OUT DATA...``.

Arms, all LoRA r=16, alpha 32, all linear layers, dropout 0, micro-batch 8, one epoch over the same rows, fp32 on
the CPU, no evaluation:

- ``plain``: a plain TRL script (``SFTTrainer`` on the JSONL's messages, answers only) with the settings the
  workbench arm trains with: padded batches, no gradient checkpointing, logging every step;
- ``trl-defaults``: the same script with TRL's own defaults (gradient checkpointing on, padded batches, max length
  1024, logging every 10 steps), only the CPU's unavoidable changes pinned;
- ``workbench``: the workbench's own training path (``workbench.training.attempt``: its rendering, its SFTConfig,
  its run-directory callbacks) with the plain script's settings;
- ``default``: the workbench's path with its default speed recipe (``workbench.training.speedups``);
- ``packing``: the workbench's path with packing (best-fit decreasing);
- ``gc-on``: the workbench arm with gradient checkpointing on.

The timer starts when step ``WARMUP + 1`` begins and stops at the end of the last step, in wall time and in the
process's CPU time (all threads; steady where wall time jitters on a shared machine); the peak memory is the
process's resident high-water mark, reset before each data file (``/proc/self/clear_refs``). A wrapper around the
trainer's collator counts each batch's tokens, with and without padding. Before training, the same eight
conversations are put through the arm's batch layout and through plain padding, and both losses are reported, so
that an arm's speed only counts when it computes the same loss.
"""

import dataclasses
import json
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any


WARMUP = 1  # steps left out of the timing (allocation, first-call costs)
BATCH = 8
LORA = {"r": 16, "lora_alpha": 32, "lora_dropout": 0.0, "target_modules": "all-linear", "task_type": "CAUSAL_LM"}


class CountingCollator:
    """Wraps a collator and records, per batch, the tokens the model reads and those that are not padding."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.useful, self.processed = inner, [], []

    def __call__(self, features: list[dict]) -> dict:
        batch = self.inner(features)
        processed = batch["input_ids"].numel()
        mask = batch.get("attention_mask")
        self.useful.append(int(mask.sum()) if mask is not None else processed)
        self.processed.append(processed)
        return batch


def step_timer() -> Any:
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        started = ended = None

        def on_step_begin(self, args, state, control, **kwargs):
            if state.global_step == WARMUP:
                self.started, self.cpu_started = time.perf_counter(), time.process_time()

        def on_step_end(self, args, state, control, **kwargs):
            self.ended, self.cpu_ended = time.perf_counter(), time.process_time()

    return StepTimer()


def plain_trainer(arm: str, model_folder: str, data: str, max_length: int) -> tuple[Any, list[dict]]:
    """A plain TRL script's trainer; returns it and its first tokenized rows (for the loss check)."""
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    pinned = {"output_dir": str(Path(data).parent / f"out-{arm}"), "use_cpu": True, "bf16": False}
    pinned |= {"per_device_train_batch_size": BATCH, "num_train_epochs": 1, "save_strategy": "no"}
    pinned |= {"report_to": "none", "disable_tqdm": True, "dataloader_pin_memory": False, "seed": 0}
    if arm == "plain":
        pinned |= {"gradient_checkpointing": False, "max_length": max_length, "assistant_only_loss": True}
        pinned |= {"logging_steps": 1, "learning_rate": 2e-4, "lr_scheduler_type": "linear"}
    model = AutoModelForCausalLM.from_pretrained(model_folder)
    trainer = SFTTrainer(
        model=model,
        args=SFTConfig(**pinned),
        train_dataset=load_dataset("json", data_files=data, split="train"),
        processing_class=AutoTokenizer.from_pretrained(model_folder),
        peft_config=LoraConfig(**LORA),
    )
    return trainer, [trainer.train_dataset[index] for index in range(BATCH)]


def workbench_trainer(arm: str, model_folder: str, data: str, max_length: int) -> tuple[Any, list[dict]]:
    """The workbench's training path, as the training process builds it, in a scratch data folder."""
    from workbench.config import RunConfig
    from workbench.runs import directory
    from workbench.training import attempt

    config = RunConfig(
        model=model_folder,
        dataset=data,
        num_train_epochs=1,
        learning_rate=2e-4,
        lr_scheduler_type="linear",
        warmup_ratio=0.0,
        per_device_train_batch_size=BATCH,
        max_length=max_length,
        lora_r=LORA["r"],
        lora_alpha=LORA["lora_alpha"],
        max_new_tokens_eval=1,
    )
    if arm != "default":  # the default arm keeps the workbench's default speed recipe
        config = dataclasses.replace(config, padding_free=False, packing=arm == "packing")
        config = dataclasses.replace(config, gradient_checkpointing=arm == "gc-on")
    run = directory.create_run(config, owner="bench")
    inputs = attempt.load_inputs(run.path, config)
    model = attempt.load_for_training(config, inputs)
    trainer = attempt.build_trainer(run.path, config, inputs, model, threading.Event())
    first = attempt.tokenized(inputs.train_rows[:BATCH], inputs, config)
    return trainer, [first[index] for index in range(BATCH)]


def loss_check(trainer: Any, rows: list[dict], layout: str) -> dict[str, float]:
    """The loss of ``rows`` padded, and laid out as the arm lays out its batches ('padded', 'padding-free' or
    'packed'), on the arm's model before training (eval mode, as the trainer calls it: no KV cache)."""
    import torch
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    pad = trainer.processing_class.pad_token_id
    features = [{"input_ids": row["input_ids"], "labels": row["labels"]} for row in rows]
    batches = {"padded": DataCollatorForLanguageModeling(pad_token_id=pad)(features)}
    if layout == "padding-free":
        batches["arm"] = DataCollatorForLanguageModeling(pad_token_id=pad, padding_free=True)(features)
    elif layout == "packed":
        packed = {key: [token for row in features for token in row[key]] for key in ("input_ids", "labels")}
        packed["seq_lengths"] = [len(row["input_ids"]) for row in features]
        batches["arm"] = DataCollatorForLanguageModeling(pad_token_id=pad, padding_free=True)([packed])
    model = trainer.model.eval()
    losses = {}
    with torch.no_grad():
        for name, batch in batches.items():
            losses[name] = float(model(**batch, use_cache=False).loss)
    model.train()
    return losses


def layout_of(trainer: Any) -> str:
    if trainer.args.packing:
        return "packed"
    return "padding-free" if trainer.args.padding_free else "padded"


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_gb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 2**20


def run_arm(arm: str, model_folder: str, data: str, max_length: int) -> dict[str, Any]:
    reset_peak_rss()
    started = time.perf_counter()
    build = plain_trainer if arm in ("plain", "trl-defaults") else workbench_trainer
    trainer, rows = build(arm, model_folder, data, max_length)
    prepared = time.perf_counter() - started
    checked = loss_check(trainer, rows, layout_of(trainer))
    counter, timer = CountingCollator(trainer.data_collator), step_timer()
    trainer.data_collator = counter
    trainer.add_callback(timer)
    output = trainer.train()
    timed_useful = sum(counter.useful[WARMUP:])
    timed_processed = sum(counter.processed[WARMUP:])
    seconds = timer.ended - timer.started
    return {
        "arm": arm,
        "layout": layout_of(trainer),
        "gradient_checkpointing": bool(trainer.args.gradient_checkpointing),
        "rows": len(trainer.train_dataset),
        "steps": trainer.state.global_step,
        "useful_tokens_per_s": timed_useful / seconds,
        "useful_tokens_per_cpu_s": timed_useful / (timer.cpu_ended - timer.cpu_started),
        "padding_fraction": 1 - timed_useful / timed_processed,
        "prepare_seconds": prepared,
        "peak_rss_gb": peak_rss_gb(),
        "train_loss": output.training_loss,
        "loss_check": checked,
    }


if __name__ == "__main__":
    import os

    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    arm_name, model_dir, length, out_file, *data_files = sys.argv[1:]
    results = {Path(data).stem: run_arm(arm_name, model_dir, data, int(length)) for data in data_files}
    Path(out_file).write_text(json.dumps(results), encoding="utf-8")
