"""Turning a RunConfig into TRL/peft objects: the SFTConfig, the LoRA config, layer freezing and the trainer."""

from pathlib import Path
from typing import Any

from workbench.config import RunConfig
from workbench.runs.directory import CHECKPOINTS_DIR
from workbench.schedule import SAVE_TOTAL_LIMIT, Plan
from workbench.training import distributed, speedups


def precision_flags(config: RunConfig, cuda: bool) -> dict[str, bool]:
    import torch

    bf16_ok = cuda and torch.cuda.is_bf16_supported()
    choice = config.precision
    if choice == "auto":
        choice = "bf16" if bf16_ok else "fp32"
    if not cuda:
        choice = "fp32"  # CPU training runs in float32; bf16 autocast on a CPU is slower and gains nothing here
    return {"bf16": choice == "bf16", "fp16": choice == "fp16"}


def sft_config(
    config: RunConfig, run_dir: Path, plan: Plan, has_eval: bool, cuda: bool, layout: str | None = None
) -> Any:
    """TRL's SFTConfig for the run, with the evaluation and checkpoint cadence of its ``plan`` and the batch
    ``layout`` of ``speedups.batching`` (chosen from the settings alone when not given)."""
    from trl import SFTConfig

    layout = layout or speedups.batching(config)
    return SFTConfig(
        output_dir=str(run_dir / CHECKPOINTS_DIR),
        num_train_epochs=config.num_train_epochs,
        max_steps=config.max_steps or -1,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_ratio,  # a float below 1 is a fraction of all steps
        weight_decay=config.weight_decay,
        per_device_train_batch_size=config.per_device_train_batch_size,
        per_device_eval_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        # Padding-free batches take rows cut at max length already (``attempt.tokenized``): TRL asks for that
        max_length=None if layout == "padding-free" else config.max_length,
        packing=layout == "packed",
        padding_free=layout != "padded",
        use_liger_kernel=speedups.uses_liger(config, cuda),
        assistant_only_loss=False,  # the labels come with the data (workbench.models.rendering)
        completion_only_loss=False,
        seed=config.seed,
        logging_steps=config.logging_steps,
        logging_nan_inf_filter=False,  # log a NaN loss as NaN, so that diagnostics can say the run diverged
        eval_strategy="steps" if has_eval else "no",
        eval_steps=plan.eval_every,
        eval_on_start=has_eval,  # the untrained model's held-out loss: the baseline the curve is read against
        save_strategy="steps",
        save_steps=plan.save_every,
        save_total_limit=SAVE_TOTAL_LIMIT,
        load_best_model_at_end=bool(config.early_stopping_patience and has_eval),
        metric_for_best_model="eval_loss" if has_eval else None,
        save_only_model=False,  # optimizer state is kept so that a resumed run continues exactly
        report_to="none",
        use_cpu=not cuda,
        activation_checkpointing=config.gradient_checkpointing,
        dataloader_pin_memory=cuda,
        ddp_find_unused_parameters=False,  # every trainable weight gets a gradient; searching costs a graph walk
        disable_tqdm=True,
        **precision_flags(config, cuda),
        **(distributed.fsdp_arguments() if distributed.strategy(config.method, config.gpus) == "fsdp" else {}),
    )


def lora_config(config: RunConfig) -> Any:
    if config.method not in ("lora", "qlora"):
        return None
    from peft import LoraConfig

    targets = config.target_modules.strip()
    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets if targets == "all-linear" else [name.strip() for name in targets.split(",")],
        task_type="CAUSAL_LM",
    )


def freeze_all_but_last_layers(model: Any, trainable_layers: int) -> int:
    """Freeze every weight except the last N decoder layers and the final norm; returns the trainable count."""
    layers = model.model.layers
    keep = set(range(max(0, len(layers) - trainable_layers), len(layers)))
    for name, parameter in model.named_parameters():
        parts = name.split(".")
        in_kept_layer = "layers" in parts and int(parts[parts.index("layers") + 1]) in keep
        parameter.requires_grad = in_kept_layer or name.startswith("model.norm")
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


def callbacks(config: RunConfig, has_eval: bool) -> list[Any]:
    from transformers import EarlyStoppingCallback

    if config.early_stopping_patience and has_eval:
        return [EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience)]
    return []
