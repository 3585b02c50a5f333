"""A sound recipe for the user's data: the rules that say what a setting should be for this dataset and model (max
length, answer length for scoring, learning rate, number of steps), used both to fit a preset to the data and to
judge a recipe before Start.

The rules:

* Max length: the 95th percentile of the conversations' token lengths under the model's chat template, rounded up
  to a multiple of 64 (at least 64, at most the model's position limit). More than 5 % of the conversations cut is
  amber, more than half red: a cut conversation loses its answer, which comes last.
* Answer length for scoring: the 95th percentile of the reference answers' tokens (with the token that ends them),
  rounded up to a multiple of 8 (at most 1,024). When most reference answers are longer than the setting, exact
  match marks them wrong however good the model is (amber).
* Learning rate: the usual start by method (LoRA and QLoRA 2e-4, full 1e-5, the last layers 5e-5) for models of a
  billion parameters or more, raised by the square root of how much smaller a model is (at most ten times: 0.5B
  LoRA 3e-4, the 5M demo 2e-3); and a usual range: up to 2e-3 for LoRA and 1e-4 for full fine-tuning on models of a
  billion parameters or more, ten times that on smaller ones. Outside the range is amber, ten times above it red.
* Steps: fewer than ``MIN_STEPS`` optimizer steps learn next to nothing (amber), so presets add epochs up to it.
* Data: fewer than ``MIN_ROWS`` conversations teach no pattern (red; the Data page's advice is 50 or more).
"""

import math
from dataclasses import dataclass, field
from typing import Any

from workbench.config import RunConfig
from workbench.schedule import Plan
from workbench.words import plural


LEARNING_RATES = {"qlora": 2e-4, "lora": 2e-4, "full": 1e-5, "freeze": 5e-5}
HIGHEST_LEARNING_RATES = {"qlora": 2e-3, "lora": 2e-3, "full": 1e-4, "freeze": 2e-4}  # models of 1B+ parameters
LOWEST_LEARNING_RATE = 1e-6
SMALL_MODEL_PARAMS = 1_000_000_000
SMALL_MODEL_SCALE = 10
KEEP_WHOLE = 0.95  # the share of conversations (and reference answers) a fitted length keeps whole
LENGTH_STEP, ANSWER_STEP = 64, 8
MAX_ANSWER_TOKENS = 1024  # longer answers are scored cut: generating more for every held-out row costs too much
MIN_STEPS = 20
MIN_ROWS = 10  # fewer conversations than this teach no pattern
CUT_AMBER, CUT_RED = 0.05, 0.5


@dataclass(frozen=True)
class Fix:
    """One click that makes the run fit better: RunConfig field -> new value, and the memory it would then need."""

    label: str
    changes: dict[str, Any]
    peak_memory_gb: float = 0.0


@dataclass(frozen=True)
class Finding:
    """One judgement of the recipe: its level, the sentence for the page, and the fix, if one click makes it right."""

    level: str  # "green" | "amber" | "red"
    sentence: str
    fix: Fix | None = None


@dataclass(frozen=True)
class DataShape:
    """What the rules read of the data: token lengths of the conversations and of their reference answers."""

    lengths: list[int]
    answers: list[int] = field(default_factory=list)
    position_limit: int = 0  # the model's longest input (0: unknown)
    n_params: int = 0


def percentile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0


def fitted_max_length(shape: DataShape) -> int:
    """The max length that keeps 95 % of the conversations whole."""
    length = max(LENGTH_STEP, math.ceil(percentile(shape.lengths, KEEP_WHOLE) / LENGTH_STEP) * LENGTH_STEP)
    return min(length, shape.position_limit) if shape.position_limit else length


def fitted_answer_length(shape: DataShape) -> int:
    """The answer length for scoring that lets 95 % of the reference answers end."""
    fitted = math.ceil(percentile(shape.answers, KEEP_WHOLE) / ANSWER_STEP) * ANSWER_STEP
    return min(MAX_ANSWER_TOKENS, max(ANSWER_STEP, fitted))


def usual_learning_rate(method: str, n_params: int = 0) -> float:
    """Where to start for ``method``: the usual rate for models of a billion parameters or more, raised for smaller
    ones by the square root of how much smaller (at most ten times), as narrower models take larger steps."""
    if n_params <= 0:
        return LEARNING_RATES[method]
    scale = min(SMALL_MODEL_SCALE, max(1.0, math.sqrt(SMALL_MODEL_PARAMS / n_params)))
    return float(f"{LEARNING_RATES[method] * scale:.1g}")


def usual_learning_rates(method: str, n_params: int) -> tuple[float, float]:
    """The range of learning rates that is usual for ``method`` on a model of ``n_params`` parameters."""
    highest = HIGHEST_LEARNING_RATES[method] * (SMALL_MODEL_SCALE if 0 < n_params < SMALL_MODEL_PARAMS else 1)
    return LOWEST_LEARNING_RATE, highest


def judge(config: RunConfig, shape: DataShape, plan: Plan) -> list[Finding]:
    """Every rule the recipe breaks, with how badly and the fix."""
    findings = [
        _too_few(shape),
        _cut(config, shape),
        _learning_rate(config, shape),
        _steps(config, plan),
        _answer_length(config, shape),
    ]
    return [finding for finding in findings if finding is not None]


def _too_few(shape: DataShape) -> Finding | None:
    if not shape.lengths or len(shape.lengths) >= MIN_ROWS:
        return None
    return Finding(
        "red",
        f"Only {plural(len(shape.lengths), 'conversation')}: too few for the model to learn a pattern from, and "
        f"none to spare for checking it; collect at least {MIN_ROWS} (50 or more work better).",
    )


def _cut(config: RunConfig, shape: DataShape) -> Finding | None:
    if not shape.lengths or config.packing:
        return None
    share = sum(length > config.max_length for length in shape.lengths) / len(shape.lengths)
    if share <= CUT_AMBER:
        return None
    level = "red" if share > CUT_RED else "amber"
    sentence = (
        f"{share:.0%} of your conversations are longer than the max length of {config.max_length} tokens; training "
        "cuts them, and what is cut (the answers come last) is never learned."
    )
    fitted = fitted_max_length(shape)
    if fitted <= config.max_length:
        return Finding(level, sentence + " The model cannot read longer inputs; shorten or drop those records.")
    label = f"Raise max length to {fitted} tokens (keeps {KEEP_WHOLE:.0%} of your conversations whole)"
    return Finding(level, sentence, Fix(label, {"max_length": fitted}))


def _learning_rate(config: RunConfig, shape: DataShape) -> Finding | None:
    lowest, highest = usual_learning_rates(config.method, shape.n_params)
    rate = config.learning_rate
    if lowest <= rate <= highest:
        return None
    usual = usual_learning_rate(config.method, shape.n_params)
    level = "red" if rate > 10 * highest else "amber"
    side = "far above" if rate > highest else "far below"
    sentence = (
        f"A learning rate of {rate:g} is {side} the usual range for this method ({lowest:g} to {highest:g}); "
        + (
            "training would likely diverge to a loss that is NaN or huge."
            if rate > highest
            else "it would barely learn."
        )
    )
    return Finding(
        level, sentence, Fix(f"Use the usual learning rate for this method, {usual:g}", {"learning_rate": usual})
    )


def _steps(config: RunConfig, plan: Plan) -> Finding | None:
    if plan.total_steps >= MIN_STEPS or plan.steps_per_epoch == 0:
        return None
    sentence = (
        f"Only {plan.total_steps} optimizer steps: too few to learn more than the shape of the answers; train for "
        "more epochs or on more data."
    )
    epochs = max(math.ceil(MIN_STEPS / plan.steps_per_epoch), math.ceil(config.num_train_epochs))
    if epochs > 100 or (epochs <= config.num_train_epochs and not config.max_steps):
        return Finding("amber", sentence)
    label = f"Train for {epochs} epochs (about {epochs * plan.steps_per_epoch} steps)"
    return Finding("amber", sentence, Fix(label, {"num_train_epochs": float(epochs), "max_steps": 0}))


def _answer_length(config: RunConfig, shape: DataShape) -> Finding | None:
    if not shape.answers:
        return None
    longer = sum(length > config.max_new_tokens_eval for length in shape.answers) / len(shape.answers)
    if longer <= 0.1:
        return None
    fitted = fitted_answer_length(shape)
    sentence = (
        f"{longer:.0%} of your reference answers are longer than the answer length for scoring "
        f"({config.max_new_tokens_eval} tokens), so held-out scores would mark them wrong however good the model is."
    )
    fix = Fix(f"Raise the answer length for scoring to {fitted} tokens", {"max_new_tokens_eval": fitted})
    return Finding(
        "amber" if longer > 0.5 else "green", sentence, fix if fitted > config.max_new_tokens_eval else None
    )
