"""A preset fitted to the user's data: the preset's settings from the dataset's size (``presets``), then the
settings that depend on how long its conversations and answers are (``recipe``: max length and answer length for
scoring), kept within the memory the device has, and one sentence for every value that changed and why.
"""

import dataclasses
from dataclasses import dataclass

from workbench.config import METHOD_LABELS, RunConfig, form_fields
from workbench.models.device import Device
from workbench.planning import presets, recipe
from workbench.planning.fixes import AMBER_MEMORY_FRACTION
from workbench.planning.memory import available_memory_gb, peak_memory_gb
from workbench.planning.model_facts import ModelFacts, model_facts
from workbench.planning.preflight import DatasetLengths, data_shape
from workbench.words import plural


@dataclass(frozen=True)
class Fitted:
    """The fitted settings, and what changed from the settings before, in sentences."""

    config: RunConfig
    changes: list[str]


def fit_to_data(name: str, base: RunConfig, lengths: DatasetLengths, device: Device) -> Fitted:
    """``base`` with preset ``name`` fitted to the data whose token lengths are ``lengths`` (see
    ``preflight.dataset_lengths``), on ``device``; a UserError when the model cannot be read."""
    facts = model_facts(base.model)
    return fit_preset(name, base, data_shape(lengths, facts), device, facts)


def fit_preset(
    name: str, base: RunConfig, shape: recipe.DataShape, device: Device, facts: ModelFacts | None = None
) -> Fitted:
    """``base`` with preset ``name`` applied for the data ``shape`` describes, on ``device``."""
    chosen = presets.preset_config(name, base, len(shape.lengths), device.cuda)
    chosen = dataclasses.replace(chosen, gradient_checkpointing=_needs_checkpointing(chosen, shape, device, facts))
    chosen = dataclasses.replace(
        chosen,
        max_length=_max_length(chosen, shape, device, facts),
        max_new_tokens_eval=recipe.fitted_answer_length(shape) if shape.answers else chosen.max_new_tokens_eval,
        learning_rate=recipe.usual_learning_rate(chosen.method, shape.n_params),
    )
    return Fitted(chosen, describe_changes(base, chosen, shape))


def _fits(config: RunConfig, shape: recipe.DataShape, device: Device, facts: ModelFacts | None) -> bool:
    """True when the run's estimated peak stays within the safe share of the memory free (or nothing is known)."""
    available = available_memory_gb(device) if facts is not None and shape.lengths else None
    if available is None:
        return True
    return peak_memory_gb(config, facts, shape.lengths, device.cuda) <= AMBER_MEMORY_FRACTION * available


def _needs_checkpointing(config: RunConfig, shape: recipe.DataShape, device: Device, facts: ModelFacts | None) -> bool:
    """Gradient checkpointing (20-30% slower) only on a GPU where the run at its fitted length does not fit without."""
    if not device.cuda:
        return False
    at_length = dataclasses.replace(config, max_length=recipe.fitted_max_length(shape)) if shape.lengths else config
    return not _fits(at_length, shape, device, facts)


def _max_length(config: RunConfig, shape: recipe.DataShape, device: Device, facts: ModelFacts | None) -> int:
    """The fitted max length, lowered in steps of 64 tokens while the run would not fit in the memory free."""
    if not shape.lengths:
        return config.max_length
    length = recipe.fitted_max_length(shape)
    available = available_memory_gb(device) if facts is not None else None
    while available is not None and length > recipe.LENGTH_STEP:
        trial = dataclasses.replace(config, max_length=length)
        if peak_memory_gb(trial, facts, shape.lengths, device.cuda) <= AMBER_MEMORY_FRACTION * available:
            break
        length -= recipe.LENGTH_STEP
    return length


def describe_changes(before: RunConfig, after: RunConfig, shape: recipe.DataShape) -> list[str]:
    """One sentence per setting the fit changed, saying why."""
    n_rows = plural(len(shape.lengths), "conversation")
    reasons = {
        "max_length": _length_reason(after.max_length, recipe.fitted_max_length(shape)),
        "max_new_tokens_eval": f"{recipe.KEEP_WHOLE:.0%} of your reference answers end within "
        f"{after.max_new_tokens_eval} tokens",
        "num_train_epochs": f"for {n_rows}, so that the model sees enough examples in enough steps",
        "learning_rate": f"the usual start for this method ({METHOD_LABELS.get(after.method, after.method)}) on a "
        f"model of this size",
        "per_device_train_batch_size": f"an effective batch of "
        f"{after.per_device_train_batch_size * after.gradient_accumulation_steps} for {n_rows}",
        "gradient_checkpointing": "the run needs it to fit in the memory free"
        if after.gradient_checkpointing
        else "the run fits without it, which is 20-30% faster",
    }
    changes = []
    for name, why in reasons.items():
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes.append(f"{_label(name)}: {_shown(old)} → {_shown(new)}, {why}.")
    return changes


def _length_reason(chosen: int, fitted: int) -> str:
    if chosen < fitted:
        return (
            f"as long as the free memory allows; {recipe.KEEP_WHOLE:.0%} of your conversations would need {fitted} "
            "tokens under this model's chat template"
        )
    return f"{recipe.KEEP_WHOLE:.0%} of your conversations fit in {chosen} tokens under this model's chat template"


def _label(name: str) -> str:
    return next(spec.label for spec in form_fields() if spec.name == name)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)
