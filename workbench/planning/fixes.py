"""One-click fixes the pre-flight check offers when a run will not fit: each is a set of RunConfig changes that
lowers the estimated peak memory, with the memory the run would then need."""

import math
from dataclasses import replace
from typing import Any

from workbench.config import RunConfig
from workbench.planning.memory import peak_memory_gb, peak_seq_len
from workbench.planning.model_facts import ModelFacts
from workbench.planning.recipe import LEARNING_RATES, Fix


AMBER_MEMORY_FRACTION = 0.85  # more of the free memory than this is a tight fit


def offer_fixes(
    config: RunConfig, facts: ModelFacts, token_lengths: list[int], cuda: bool, available_gb: float
) -> list[Fix]:
    """The one-click changes that lower the estimated memory and are not already applied."""
    current = peak_memory_gb(config, facts, token_lengths, cuda)
    candidates = [
        _shorter_length_fix(config, token_lengths),
        _micro_batch_fix(config, facts, token_lengths, cuda, available_gb),
        _checkpointing_fix(config),
        _qlora_fix(config, cuda),
    ]
    fixes = []
    for fix in candidates:
        if fix is None:
            continue
        after = peak_memory_gb(replace(config, **fix.changes), facts, token_lengths, cuda)
        if after < current:
            fixes.append(replace(fix, peak_memory_gb=after))
    if len(fixes) > 1 and min(fix.peak_memory_gb for fix in fixes) > available_gb:
        combined = {name: value for fix in fixes for name, value in fix.changes.items()}
        after = peak_memory_gb(replace(config, **combined), facts, token_lengths, cuda)
        fixes.append(Fix("No single change is enough: apply all of the above together", combined, after))
    return fixes


def _shorter_length_fix(config: RunConfig, token_lengths: list[int]) -> Fix | None:
    longest = peak_seq_len(config, token_lengths)
    if not token_lengths:
        new = max(16, config.max_length // 2)
        return Fix(f"Halve max length to {new} tokens", {"max_length": new}) if new < longest else None
    p95 = sorted(token_lengths)[math.ceil(0.95 * len(token_lengths)) - 1]
    new = max(16, math.ceil(p95 / 64) * 64)
    if new >= longest or new >= config.max_length:
        return None
    return Fix(f"Cut max length to {new} tokens (keeps 95% of your conversations whole)", {"max_length": new})


def _micro_batch_fix(
    config: RunConfig, facts: ModelFacts, token_lengths: list[int], cuda: bool, available_gb: float
) -> Fix | None:
    batch, accumulation = config.per_device_train_batch_size, config.gradient_accumulation_steps
    if batch <= 1:
        return None
    effective = batch * accumulation
    new = batch // 2
    while new > 1:
        trial = replace(
            config, per_device_train_batch_size=new, gradient_accumulation_steps=math.ceil(effective / new)
        )
        if peak_memory_gb(trial, facts, token_lengths, cuda) <= AMBER_MEMORY_FRACTION * available_gb:
            break
        new //= 2
    new_accumulation = min(1024, math.ceil(effective / new))
    label = (
        f"Use micro-batches of {new} with {new_accumulation} accumulation steps "
        f"(same effective batch of {new * new_accumulation})"
    )
    return Fix(label, {"per_device_train_batch_size": new, "gradient_accumulation_steps": new_accumulation})


def _checkpointing_fix(config: RunConfig) -> Fix | None:
    if config.gradient_checkpointing:
        return None
    return Fix("Turn on gradient checkpointing (much less memory, about 25% slower)", {"gradient_checkpointing": True})


def _qlora_fix(config: RunConfig, cuda: bool) -> Fix | None:
    if config.method == "qlora":
        return None
    changes: dict[str, Any] = {"method": "qlora"}
    if config.method in ("full", "freeze"):
        changes["learning_rate"] = LEARNING_RATES["qlora"]
    slower = "" if cuda else "; slower than LoRA on a CPU"
    return Fix(f"Switch to 4-bit QLoRA (trains a small adapter on a 4-bit copy of the model{slower})", changes)
