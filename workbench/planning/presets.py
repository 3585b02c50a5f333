"""Ready-made run configurations: the built-in demo run, and three presets a non-engineer can pick.

The presets ("Quick pilot", "Balanced", "Thorough") fill in every training setting from the dataset's size, the way
OpenAI's fine-tuning picks its defaults, so that a first run needs only a model, a dataset and a click. The fields a
non-engineer should not need are listed in ``ADVANCED_FIELDS`` (every section of the config but "basic"), for the
form to keep behind an "Advanced" toggle.
"""

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from workbench import schedule
from workbench.config import DEMO_DATASET, DEMO_MODEL, RunConfig, form_fields
from workbench.data import library
from workbench.errors import UserError
from workbench.planning.recipe import LEARNING_RATES, MIN_STEPS


PRESETS = ("Quick pilot", "Balanced", "Thorough")
BASIC_FIELDS: tuple[str, ...] = tuple(spec.name for spec in form_fields("basic"))
ADVANCED_FIELDS: tuple[str, ...] = tuple(spec.name for spec in form_fields() if spec.group != "basic")
BATCH_SHARE = 0.002  # OpenAI: the batch size defaults to about 0.2 % of the training examples
MIN_EFFECTIVE_BATCH, MAX_EFFECTIVE_BATCH = 8, 32
MIN_ROWS_FOR_HOLDOUT = 50
MAX_HELD_OUT_ROWS = 1000
SMALL_DATASET_ROWS = 1000


@dataclass(frozen=True)
class Recipe:
    """How one preset turns a dataset size into settings."""

    description: str
    target_epochs: int
    min_examples: int
    max_examples: int
    max_epochs: int
    step_cap: int  # 0: no cap
    lora_r: int
    evaluations: int
    patience: int
    validation_fraction: float


RECIPES = {
    "Quick pilot": Recipe(
        "A short first try (at most about 100 training steps): checks that your data and model work and shows "
        "whether the loss starts to fall, in minutes rather than hours.",
        target_epochs=1,
        min_examples=100,
        max_examples=5_000,
        max_epochs=10,
        step_cap=100,
        lora_r=8,
        evaluations=4,
        patience=0,
        validation_fraction=0.05,
    ),
    "Balanced": Recipe(
        "The recommended start: the number of passes over your data is picked from its size as OpenAI does, and "
        "training stops early when held-out conversations stop getting better.",
        target_epochs=3,
        min_examples=100,
        max_examples=25_000,
        max_epochs=25,
        step_cap=0,
        lora_r=16,
        evaluations=10,
        patience=3,
        validation_fraction=0.1,
    ),
    "Thorough": Recipe(
        "Trains longer with a larger adapter and more frequent checks; for when a balanced run worked and you want "
        "to get the most out of your data.",
        target_epochs=5,
        min_examples=200,
        max_examples=50_000,
        max_epochs=25,
        step_cap=0,
        lora_r=32,
        evaluations=20,
        patience=5,
        validation_fraction=0.1,
    ),
}


def demo_config(**overrides: object) -> RunConfig:
    """The default demo run: the demo model on the demo dataset with the recipe measured in
    ``workbench.models.demo_task``."""
    from workbench.models.demo_task import DEMO_MAX_NEW_TOKENS, DEMO_SFT_RECIPE

    values = {
        "run_name": "demo",
        "model": DEMO_MODEL,
        "dataset": DEMO_DATASET,
        **DEMO_SFT_RECIPE,
        "max_new_tokens_eval": DEMO_MAX_NEW_TOKENS,
        **overrides,
    }
    return RunConfig.from_dict(values)


def preset_description(name: str) -> str:
    """One sentence that tells a non-engineer what the preset is for."""
    return _recipe(name).description


def auto_epochs(
    n_rows: int,
    target_epochs: int = 3,
    min_examples: int = 100,
    max_examples: int = 25_000,
    max_epochs: int = 25,
) -> int:
    """Epochs from the dataset size, OpenAI's documented rule (openai-cookbook, Chat_finetuning_data_prep.ipynb).

    Start from ``target_epochs`` (3); if that shows the model fewer than ``min_examples`` (100) conversations in
    all, use ``min_examples // n_rows`` epochs (at most ``max_epochs``, 25); if more than ``max_examples`` (25,000),
    use ``max_examples // n_rows`` epochs (at least 1). So 20 rows get 5 epochs, 1,000 rows 3 and 100,000 rows 1.
    """
    n_rows = max(n_rows, 1)
    if n_rows * target_epochs < min_examples:
        return max(1, min(max_epochs, min_examples // n_rows))
    if n_rows * target_epochs > max_examples:
        return max(1, max_examples // n_rows)
    return target_epochs


def preset_config(name: str, base: RunConfig, n_rows: int, cuda: bool) -> RunConfig:
    """A copy of ``base`` with every training setting chosen by the preset for ``n_rows`` training conversations.

    Kept from ``base``: the model, data, method, run name and the data-format settings (max length, packing,
    assistant-only loss, target modules, precision, seed). Chosen: epochs (``auto_epochs`` with the preset's
    targets, raised up to the preset's most when that gives fewer than ``recipe.MIN_STEPS`` optimizer steps; Quick
    pilot also stops after 100 optimizer steps), learning rate by method (LoRA/QLoRA 2e-4, full
    1e-5, freeze 5e-5), LoRA rank (8/16/32) with alpha twice the rank, an effective batch of about 0.2 % of the
    rows (OpenAI's rule, here between 8 and 32) split into micro-batches of 4 on a GPU or 8 on a CPU, gradient
    checkpointing off, evaluation about 4/10/20 times per run and a checkpoint every second evaluation,
    early-stopping patience 0/3/5 evaluations, and a held-out share of 5/10/10 % (at most 1,000 rows; none below
    50 rows or when an evaluation file is given).
    """
    recipe = _recipe(name)
    n_rows = max(n_rows, 1)
    has_eval_file = bool(base.eval_dataset.strip()) or base.dataset == DEMO_DATASET or _has_validation_split(base)
    holdout = _validation_fraction(recipe, n_rows, has_eval_file)
    n_train = n_rows - schedule.held_out_count(n_rows, holdout)
    micro, accumulation = _batch(n_train, cuda)
    epochs = auto_epochs(n_train, recipe.target_epochs, recipe.min_examples, recipe.max_examples, recipe.max_epochs)
    per_epoch = schedule.steps_per_epoch(n_train, micro, accumulation)
    cap = recipe.step_cap
    if per_epoch * epochs < MIN_STEPS:  # too few steps to learn anything: more epochs, up to the preset's most
        epochs = min(recipe.max_epochs, max(epochs, math.ceil(MIN_STEPS / max(per_epoch, 1))))
        cap = MIN_STEPS if cap else 0  # a capped (short) preset stops at the least that learns
    steps = schedule.optimizer_steps(n_train, micro, accumulation, epochs)
    max_steps = cap if cap and steps > cap else 0
    eval_every = max(1, (max_steps or steps) // recipe.evaluations)
    can_stop_early = has_eval_file or holdout > 0
    return dataclasses.replace(
        base,
        num_train_epochs=float(epochs),
        max_steps=max_steps,
        learning_rate=LEARNING_RATES[base.method],
        lr_scheduler_type="cosine",
        warmup_ratio=0.03,
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=accumulation,
        lora_r=recipe.lora_r,
        lora_alpha=2 * recipe.lora_r,
        lora_dropout=0.05 if n_train < SMALL_DATASET_ROWS else 0.0,
        validation_fraction=holdout,
        eval_steps=eval_every,
        save_steps=2 * eval_every,
        early_stopping_patience=recipe.patience if can_stop_early else 0,
        gradient_checkpointing=False,  # turned on by ``fitting`` only when the run does not fit without it
    )


def _has_validation_split(config: RunConfig) -> bool:
    """True for a library version saved with its own validation records (training evaluates on those)."""
    version = library.version_for_path(Path(config.dataset).expanduser())
    return version is not None and version.validation_path is not None


def _recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise UserError(f"There is no preset called '{name}'; choose one of {', '.join(PRESETS)}.")
    return RECIPES[name]


def _validation_fraction(recipe: Recipe, n_rows: int, has_eval_file: bool) -> float:
    """Share of rows held out for evaluation: none with an evaluation file or too few rows to spare."""
    if has_eval_file or n_rows < MIN_ROWS_FOR_HOLDOUT:
        return 0.0
    return min(recipe.validation_fraction, MAX_HELD_OUT_ROWS / n_rows)


def _batch(n_train: int, cuda: bool) -> tuple[int, int]:
    """(micro-batch, accumulation) for an effective batch of about 0.2 % of the rows, a power of two in 8..32."""
    wanted = 2 ** max(0, math.floor(math.log2(max(1.0, BATCH_SHARE * n_train))))
    effective = min(max(wanted, MIN_EFFECTIVE_BATCH), MAX_EFFECTIVE_BATCH, max(n_train, 1))
    micro = min(effective, 4 if cuda else 8)
    return micro, math.ceil(effective / micro)
