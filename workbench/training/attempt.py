"""One training attempt: load what the run needs (once per process), then train with TRL's SFTTrainer, save the
adapter and score the held-out set before and after."""

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import schedule
from workbench.config import RunConfig
from workbench.data import sources
from workbench.errors import UserError
from workbench.evaluation import base_cache, held_out
from workbench.evaluation.held_out import score_answers
from workbench.models import loading
from workbench.models.device import Device, device_info
from workbench.models.rendering import Rendering, RenderingError, encode, rendering_for
from workbench.runs import directory, held_out_scores, record
from workbench.runs.held_out_scores import Score
from workbench.training import distributed, sft, speedups
from workbench.training.phases import PhaseClock


@dataclass
class Inputs:
    """Everything loaded once per process and shared by every retry."""

    device: Device
    model_path: str
    train_rows: list[dict]
    eval_rows: list[dict]
    tokenizer: Any
    rendering: Rendering | None  # None for plain-text data
    n_rows: int  # rows of the training dataset before any held-out split
    separate_eval: bool  # the held-out rows came from elsewhere, not from the training rows
    clock: PhaseClock  # where the process's time goes, for the run record

    def plan(self, config: RunConfig) -> schedule.Plan:
        return schedule.plan(config, self.n_rows, self.separate_eval)

    @property
    def scored_rows(self) -> list[dict]:
        """Held-out rows that have an answer to score (plain-text rows have none)."""
        return held_out.answerable(self.eval_rows)


def load_inputs(run_dir: Path, config: RunConfig, clock: PhaseClock | None = None) -> Inputs:
    clock = clock or PhaseClock()
    with clock.timed("loading the data"):
        device = device_info()
        print(f"Device: {device.name}", flush=True)
        model_path = loading.resolve_model(config.model, progress=lambda fraction, text: _say(run_dir, text))
        train_rows, eval_rows, separate_eval = held_out.split_rows(config)
        n_rows = len(train_rows) + (0 if separate_eval else len(eval_rows))
        tokenizer = loading.load_tokenizer(model_path)
        rendering = _rendering(tokenizer, config, train_rows)
    inputs = Inputs(device, model_path, train_rows, eval_rows, tokenizer, rendering, n_rows, separate_eval, clock)
    if distributed.is_main():
        _start_record(run_dir, config, inputs)
    return inputs


def _say(run_dir: Path, message: str) -> None:
    """Show ``message`` as the run's status (from the main process only)."""
    if distributed.is_main():
        directory.update_status(run_dir, message=message)


def _start_record(run_dir: Path, config: RunConfig, inputs: Inputs) -> None:
    status, device, rendering = directory.read_status(run_dir), inputs.device, inputs.rendering
    dataset_path = sources.resolve_dataset(config.dataset)
    origin = rendering.origin if rendering else "none (plain text)"
    print(f"Chat template: {origin}; reasoning blocks: {config.reasoning}", flush=True)
    record.start_record(
        run_dir,
        dataset_path,
        len(inputs.train_rows),
        device.name,
        device.cuda,
        status.owner,
        status.estimated_peak_gb,
        dataset_label=sources.dataset_label(config.dataset),
    )
    record.note(run_dir, chat_template=origin, reasoning=config.reasoning)


def _rendering(tokenizer: Any, config: RunConfig, rows: list[dict]) -> Rendering | None:
    """The rendering contract of the run (the template it trains with becomes the tokenizer's, so everything after
    renders alike); None for plain-text data, which needs no template."""
    try:
        rendering = rendering_for(tokenizer, config.reasoning)
    except RenderingError as error:
        if any("messages" in row for row in rows):
            raise UserError(str(error)) from None
        return None
    tokenizer.chat_template = rendering.template
    return rendering


def tokenized(rows: list[dict], inputs: Inputs, config: RunConfig) -> Any:
    """The rows as the trainer takes them: token ids and labels from the rendering contract (TRL uses the labels as
    they are, so what is learned is exactly what ``workbench.models.rendering`` says)."""
    from datasets import Dataset

    encoded = [encode(inputs.rendering, inputs.tokenizer, row, config.assistant_only_loss) for row in rows]
    unplaced = sum(item.unplaced for item in encoded)
    if unplaced:
        print(f"{unplaced} answers were not trained: the template renders their prompt differently.", flush=True)
    learnable = [item for item in encoded if any(label != -100 for label in item.labels[: config.max_length])]
    if not learnable:
        shortest = min(len(item.input_ids) - sum(label != -100 for label in item.labels) for item in encoded)
        raise UserError(
            f"Every answer starts after the max length of {config.max_length} tokens (the shortest prompt takes "
            f"{shortest} tokens under this chat template), so there is nothing to learn; raise the max length."
        )
    cut = config.max_length  # as TRL cuts: the start of each conversation is kept
    return Dataset.from_list([{"input_ids": item.input_ids[:cut], "labels": item.labels[:cut]} for item in learnable])


def load_for_training(config: RunConfig, inputs: Inputs) -> Any:
    """The base model, loaded for the run's method (and frozen but for its last layers with 'freeze')."""
    model = loading.load_model(inputs.model_path, config.method, inputs.device.cuda)
    print(f"Loaded {inputs.model_path} for {config.method}: {loading.describe_weights(model)}", flush=True)
    if config.method == "freeze":
        trainable = sft.freeze_all_but_last_layers(model, config.freeze_trainable_layers)
        print(
            f"Training the last {config.freeze_trainable_layers} layers: {trainable / 1e6:.2f}M parameters", flush=True
        )
    return model


def load_saved_model(run_dir: Path, inputs: Inputs) -> Any:
    """The whole model a sharded run saved, loaded on this process alone (to score it)."""
    return loading.load_model(str(run_dir / directory.ADAPTER_DIR), "full", inputs.device.cuda)


def build_trainer(
    run_dir: Path, config: RunConfig, inputs: Inputs, model: Any, stop_requested: threading.Event
) -> Any:
    """TRL's SFTTrainer for the run, with its callbacks (the run directory, sample answers, early stopping)."""
    from trl import SFTTrainer

    from workbench.training.callbacks import RunDirectoryCallback, SampleAnswersCallback
    from workbench.training.faults import fault_callbacks

    eval_rows, tokenizer, scored, rendering = inputs.eval_rows, inputs.tokenizer, inputs.scored_rows, inputs.rendering
    samples = SampleAnswersCallback(run_dir, tokenizer, rendering, scored, config.max_new_tokens_eval)
    train = tokenized(inputs.train_rows, inputs, config)
    shape = speedups.model_batch_shape(model, [len(ids) for ids in train["input_ids"]])
    cuda, sharded = inputs.device.cuda, distributed.strategy(config.method, config.gpus) == "fsdp"
    if distributed.is_main():
        record.note(run_dir, speedups=speedups.recorded(config, cuda, shape))
    trainer = SFTTrainer(
        model=model,
        args=sft.sft_config(
            config, run_dir, inputs.plan(config), bool(eval_rows), cuda, speedups.batching(config, shape, cuda)
        ),
        train_dataset=train,
        eval_dataset=tokenized(eval_rows, inputs, config) if eval_rows else None,
        processing_class=tokenizer,
        peft_config=sft.lora_config(config),
        callbacks=[
            RunDirectoryCallback(run_dir, stop_requested),
            *([samples] if scored and not sharded else []),  # a sharded model cannot answer on rank 0 alone
            *sft.callbacks(config, bool(eval_rows)),
            *fault_callbacks(config.per_device_train_batch_size),
        ],
    )
    if sharded and not trainer.is_fsdp_enabled:  # accelerate falls back to whole copies on a device it cannot shard on
        raise UserError("Full fine-tuning on several GPUs shards the model (FSDP), which needs GPUs; set GPUs to 1.")
    if sharded and distributed.is_main():
        print(f"Sharding the model over {config.gpus} processes (FSDP2).", flush=True)
    return trainer


def base_score(model: Any, config: RunConfig, inputs: Inputs) -> Score:
    """The untrained model's held-out score: kept from an earlier run on the same model and data, or measured."""
    template = inputs.rendering.template if inputs.rendering else ""
    rows, answer_length = inputs.scored_rows, config.max_new_tokens_eval
    key = base_cache.cache_key(inputs.model_path, config.method, template, rows, answer_length, inputs.device.name)
    if (kept := base_cache.cached_score(key)) is not None:
        print("The untrained model's scores are kept from an earlier run on the same model and data.", flush=True)
        return kept
    score = score_answers(model, inputs.tokenizer, inputs.rendering, rows, answer_length)
    base_cache.keep_score(key, score)
    return score


def train_once(
    run_dir: Path, config: RunConfig, inputs: Inputs, stop_requested: threading.Event, resume_from: Path | None
) -> tuple[str, str]:
    """Train once; in a data-parallel run every process trains, and only the main one scores, saves and writes."""
    clock, main = inputs.clock, distributed.is_main()
    with clock.timed("loading the model"):
        model = load_for_training(config, inputs)
    if inputs.scored_rows and not resume_from and main:
        _say(run_dir, "Scoring the untrained model on the held-out set.")
        with clock.timed("scoring the untrained model"):
            held_out_scores.write_scores(run_dir, held_out_scores.Scores(base=base_score(model, config, inputs)))

    if resume_from:
        print(f"Resuming from {resume_from.name}", flush=True)
    _say(run_dir, f"Resuming from {resume_from.name}." if resume_from else "Training.")
    with clock.timed("preparing the trainer"):
        trainer = build_trainer(run_dir, config, inputs, model, stop_requested)
    with clock.timed("training"):
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    sharded = distributed.strategy(config.method, config.gpus) == "fsdp"
    if sharded:  # gathering the shards into one model takes every process
        trainer.save_model(str(run_dir / f".{directory.ADAPTER_DIR}.partial"))
    if not main:
        return "cancelled" if stop_requested.is_set() else "succeeded", ""
    (run_dir / directory.RESUME_FILE).unlink(missing_ok=True)  # every process has read it by now
    clock.split_evaluation(trainer.state.log_history)
    with clock.timed("saving"):
        save_output(trainer, inputs.tokenizer, inputs.rendering, run_dir, saved=sharded)
    if stop_requested.is_set():
        record.note(run_dir, phases=clock.rounded())
        return (
            "cancelled",
            f"Cancelled at step {trainer.state.global_step}; the {_saved(config)} trained so far was saved.",
        )
    if inputs.scored_rows:
        _say(run_dir, "Scoring the held-out set.")
        with clock.timed("scoring the trained model"):
            # A sharded model answers only with every process: score the saved one, on this process alone
            model = load_saved_model(run_dir, inputs) if sharded else trainer.model
            tuned = score_answers(
                model, inputs.tokenizer, inputs.rendering, inputs.scored_rows, config.max_new_tokens_eval
            )
        held_out_scores.write_scores(run_dir, held_out_scores.Scores(held_out_scores.read_scores(run_dir).base, tuned))
    record.note(run_dir, phases=clock.rounded())
    return "succeeded", f"Training finished and the {_saved(config)} was saved."


def _saved(config: RunConfig) -> str:
    """What a run saves: an adapter (LoRA, QLoRA) or the whole model (full, freeze)."""
    return "adapter" if config.method in ("lora", "qlora") else "model"


def save_output(trainer: Any, tokenizer: Any, rendering: Rendering | None, run_dir: Path, saved: bool = False) -> None:
    """Save the adapter (or the full model) with the tokenizer, the chat template that trained it and the rendering
    contract (chat, scoring, the zip and the merged model use them), atomically. ``saved``: the weights are in the
    partial folder already (a sharded run's processes wrote them together)."""
    final = run_dir / directory.ADAPTER_DIR
    partial = run_dir / f".{directory.ADAPTER_DIR}.partial"
    if not saved:
        shutil.rmtree(partial, ignore_errors=True)
        trainer.save_model(str(partial))
    tokenizer.save_pretrained(str(partial))
    if rendering is not None:
        rendering.save(partial)
    shutil.rmtree(final, ignore_errors=True)
    partial.replace(final)
