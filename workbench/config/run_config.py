"""``RunConfig``: the one typed object that describes a training run.

It drives the Train page form, the presets, the YAML files under ``examples/``, the command line and the training
process. Every field is declared with ``workbench.config.fields.setting``, which keeps its label, form section, help
text and bounds in the field's metadata, so the form, the validation and the YAML loader read them from one place.
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from workbench.config.fields import check_value, coerce, setting
from workbench.errors import UserError


METHODS = ("qlora", "lora", "full", "freeze")
METHOD_LABELS = {
    "qlora": "QLoRA (4-bit base + LoRA adapter)",
    "lora": "LoRA adapter",
    "full": "Full fine-tuning",
    "freeze": "Train only the last layers",
}
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
REASONING = ("drop", "keep")
BACKENDS = ("local", "slurm", "ray")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")
DEMO_MODEL = "demo"
DEMO_DATASET = "demo"


@dataclass
class RunConfig:
    """Everything needed to start one SFT run; see each field's ``help``."""

    run_name: str = setting(
        "",
        "Run name",
        "basic",
        "A short name to find the run again. Left empty, one is made from the model, the data and the time.",
    )
    model: str = setting(
        DEMO_MODEL,
        "Model",
        "basic",
        "The base model: 'demo' for the built-in demo model, a local Hugging Face model folder, "
        "or a hub id such as Qwen/Qwen2.5-0.5B-Instruct when the server has network.",
    )
    dataset: str = setting(
        DEMO_DATASET,
        "Dataset",
        "basic",
        "The training data: 'demo' for the built-in demo set, or the path of a JSONL, JSON, CSV or Parquet file.",
    )
    eval_dataset: str = setting(
        "",
        "Evaluation file",
        "evaluation",
        "Optional held-out file used for evaluation loss and exact-match scoring. "
        "With the demo dataset, its held-out split is used when this is empty.",
    )
    method: str = setting(
        "lora",
        "Method",
        "basic",
        "QLoRA loads the base model in 4 bits (NF4, double quantisation) and trains a small adapter (least GPU "
        "memory); LoRA trains an adapter on a 16/32-bit base; full fine-tuning updates every weight (most memory); "
        "'freeze' trains only the last N transformer layers.",
        choices=METHODS,
    )
    freeze_trainable_layers: int = setting(
        2,
        "Layers to train (freeze)",
        "adapter",
        "With the 'freeze' method: how many of the last transformer layers are trained.",
        min=1,
        max=1000,
    )
    num_train_epochs: float = setting(
        3.0, "Epochs", "basic", "How many times training reads the whole dataset.", min=0.01, max=100.0
    )
    max_steps: int = setting(
        0, "Max steps", "schedule", "Stop after this many optimizer steps; 0 means use the epochs.", min=0, max=10**7
    )
    learning_rate: float = setting(
        2e-4,
        "Learning rate",
        "basic",
        "Step size of the optimizer. LoRA usually wants 1e-4 to 5e-4, full fine-tuning 1e-5.",
        min=1e-7,
        max=1.0,
    )
    lr_scheduler_type: str = setting(
        "linear", "Scheduler", "schedule", "How the learning rate changes over training.", choices=SCHEDULERS
    )
    warmup_ratio: float = setting(
        0.0, "Warm-up share", "schedule", "Share of steps ramping the learning rate up from zero.", min=0.0, max=0.5
    )
    per_device_train_batch_size: int = setting(
        8,
        "Batch size",
        "basic",
        "Conversations per training step. Lower it if the GPU runs out of memory.",
        min=1,
        max=1024,
    )
    gradient_accumulation_steps: int = setting(
        1,
        "Gradient accumulation",
        "batching",
        "Add up the gradients of this many batches before each update: a larger effective batch without more memory.",
        min=1,
        max=1024,
    )
    weight_decay: float = setting(
        0.0,
        "Weight decay",
        "schedule",
        "Pulls weights to zero against overfitting; 0 to 0.1 is typical.",
        min=0.0,
        max=1.0,
    )
    max_length: int = setting(
        512,
        "Max length (tokens)",
        "basic",
        "Longest conversation in tokens; longer ones are cut at this point.",
        min=16,
        max=131072,
    )
    lora_r: int = setting(
        16, "LoRA rank", "adapter", "LoRA rank: the adapter's capacity. 8 to 64 is typical.", min=1, max=1024
    )
    lora_alpha: int = setting(32, "LoRA alpha", "adapter", "LoRA scaling; usually twice the rank.", min=1, max=4096)
    lora_dropout: float = setting(
        0.0, "LoRA dropout", "adapter", "Dropout inside the adapter; 0.05 helps on small datasets.", min=0.0, max=0.9
    )
    target_modules: str = setting(
        "all-linear",
        "Target modules",
        "adapter",
        "Layers that get an adapter: 'all-linear', or a comma-separated list such as q_proj,v_proj.",
    )
    assistant_only_loss: bool = setting(
        True,
        "Learn from answers only",
        "batching",
        "Learn only from the assistant's answers (each up to its end-of-turn token), not from the prompts.",
    )
    reasoning: str = setting(
        "drop",
        "Reasoning blocks",
        "batching",
        "For thinking models: 'drop' trains and answers without <think> blocks (the template's empty block stays "
        "in the prompt, never learned); 'keep' trains the reasoning your data has, and the model thinks before it "
        "answers. Scores always compare the answer without its reasoning.",
        choices=REASONING,
    )
    packing: bool = setting(
        False, "Packing", "batching", "Pack short conversations best-fit into rows of max length: fewer, fuller steps."
    )
    padding_free: bool = setting(
        True,
        "Padding-free batching",
        "batching",
        "Lay each batch's conversations end to end instead of padding them to the longest: the same loss and steps, "
        "used where it costs less compute than padding (mixed lengths, or FlashAttention).",
    )
    liger_kernels: bool = setting(
        True, "Liger kernels", "batching", "On an NVIDIA GPU with liger-kernel installed: faster, less memory."
    )
    validation_fraction: float = setting(
        0.0,
        "Validation share",
        "evaluation",
        "Share of the training data held out for evaluation when no evaluation file is given.",
        min=0.0,
        max=0.5,
    )
    eval_steps: int = setting(
        0,
        "Evaluate every N steps",
        "evaluation",
        "Evaluate on the held-out data every N steps; 0 picks about 10 evaluations.",
        min=0,
        max=10**7,
    )
    save_steps: int = setting(
        0,
        "Checkpoint every N steps",
        "evaluation",
        "Save a checkpoint every N steps, to resume from after a failure; 0 picks about 4 checkpoints.",
        min=0,
        max=10**7,
    )
    early_stopping_patience: int = setting(
        0,
        "Early-stopping patience",
        "evaluation",
        "Stop when the held-out loss has not improved for this many evaluations; 0 turns it off.",
        min=0,
        max=1000,
    )
    gradient_checkpointing: bool = setting(
        False,
        "Gradient checkpointing",
        "batching",
        "Recompute activations instead of storing them: much less GPU memory, about 20-30% slower.",
    )
    precision: str = setting(
        "auto",
        "Precision",
        "other",
        "Number format for training: auto picks bf16 on GPUs that support it, else fp32.",
        choices=PRECISIONS,
    )
    gpus: int = setting(
        1,
        "GPUs",
        "other",
        "How many GPUs the run trains on at once (one process per GPU, data parallel). On a server with several "
        "GPUs the runner gives each run GPUs of its own; on one without, this many CPU processes.",
        min=1,
        max=16,
    )
    backend: str = setting(
        "local",
        "Runs on",
        "other",
        "Where the run trains: 'local' on this server, or a cluster the server is set up for ('slurm': through "
        "sbatch to WORKBENCH_SLURM_PARTITION; 'ray': through Ray Jobs at WORKBENCH_RAY_ADDRESS).",
        choices=BACKENDS,
    )
    seed: int = setting(0, "Seed", "other", "Random seed, for runs you can repeat.", min=0, max=2**31 - 1)
    logging_steps: int = setting(1, "Log every N steps", "other", "Record the loss every N steps.", min=1, max=10000)
    max_new_tokens_eval: int = setting(
        16,
        "Answer length for scoring",
        "evaluation",
        "Longest answer generated when scoring the held-out set.",
        min=1,
        max=4096,
    )

    def validate(self) -> list[str]:
        """Return one plain sentence per invalid field; an empty list means the config is usable."""
        problems = []
        for spec in dataclasses.fields(self):
            problems += check_value(spec, getattr(self, spec.name))
        if not self.model.strip():
            problems.append("Model: choose the demo model, a local model folder or a hub id.")
        if not self.dataset.strip():
            problems.append("Dataset: choose the demo dataset or upload a chat JSONL file on the Data page.")
        return problems

    def check(self) -> "RunConfig":
        """Raise ``UserError`` listing every problem, or return self."""
        problems = self.validate()
        if problems:
            raise UserError(" ".join(problems))
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RunConfig":
        known = {spec.name: spec for spec in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise UserError(f"Unknown setting(s) {', '.join(unknown)}; remove them or check the spelling.")
        return cls(**{name: coerce(known[name], value) for name, value in values.items()})

    @classmethod
    def from_yaml(cls, text: str) -> "RunConfig":
        try:
            values = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            raise UserError(
                f"The config is not valid YAML ({error.__class__.__name__}); check its indentation."
            ) from None
        if not isinstance(values, dict):
            raise UserError("The config must be a YAML mapping of setting: value lines.")
        return cls.from_dict(values)

    @classmethod
    def load(cls, path: str | Path) -> "RunConfig":
        path = Path(path)
        if not path.is_file():
            raise UserError(f"No config file at {path}; check the path.")
        return cls.from_yaml(path.read_text(encoding="utf-8"))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml(), encoding="utf-8")
