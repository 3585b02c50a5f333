"""The speed recipe of a run: how its batches are laid out (padding-free, packed or padded), whether gradient
checkpointing, Liger kernels and FlashAttention are used on the device it trains on, and why. One home for these
choices: the trainer's settings (``workbench.training.sft``), the Train page and the run record all read them here.

Padding-free batching is exact with every attention implementation transformers has: the trainer passes position
ids without an attention mask, and transformers then masks each conversation off from the others (checked by
``tests/training/test_speedups.py`` and by ``make bench``, which compares the losses before it counts the speed).
It is not always faster: FlashAttention's variable-length kernel attends within each conversation only, but PyTorch's
SDPA computes the whole batch's square and masks it, so on data of similar lengths the attention costs more than the
padding saved (``make bench`` measured 0.79x on the CPU at 20% padding, 1.5x at 61%). So the choice weighs both
layouts' compute (``layout_costs``) for the data and model at hand.
"""

import importlib.util
import random
from dataclasses import asdict, dataclass
from typing import Any

from workbench.config import RunConfig
from workbench.models.loading import attention_implementation


@dataclass(frozen=True)
class Speedup:
    """One choice of the speed recipe: whether it is used, and the reason, in a sentence."""

    name: str
    used: bool
    reason: str
    setting: str = ""  # the RunConfig field that turns it off ("" when none does)
    short: str = ""  # a few words for the headline, e.g. "padded batches"


def headline(choices: list["Speedup"]) -> str:
    """The recipe in a few words: 'padding-free batches, no gradient checkpointing, SDPA attention'."""
    return ", ".join(choice.short for choice in choices if choice.short)


@dataclass(frozen=True)
class BatchShape:
    """What the batch layout is chosen from: the training rows' token lengths (cut at max length) and the model's
    size (its matrix-multiply weights, the width of its attention queries and its layer count)."""

    lengths: tuple[int, ...]
    matmul_params: int
    attention_width: int
    layers: int


def model_batch_shape(model: Any, lengths: list[int]) -> BatchShape | None:
    """The batch shape of a loaded transformers model, or None when its config lacks the sizes."""
    config = getattr(model, "config", None)
    hidden, layers = getattr(config, "hidden_size", None), getattr(config, "num_hidden_layers", None)
    heads = getattr(config, "num_attention_heads", None)
    if not (isinstance(hidden, int) and isinstance(layers, int) and isinstance(heads, int)):
        return None
    width = heads * (getattr(config, "head_dim", None) or hidden // heads)
    weights = sum(parameter.numel() for parameter in model.parameters() if parameter.dim() == 2)
    return BatchShape(tuple(lengths), weights, width, layers)


def layout_costs(shape: BatchShape, batch: int, varlen: bool, seed: int = 0) -> tuple[float, float]:
    """Forward FLOPs of one epoch in padded batches and in padding-free ones (the rows in a seeded random order, as
    the trainer samples them). Per token: 2 FLOPs a weight, plus 4 x query width x layers per token it attends
    over: the longest row's length when padded; the whole batch's with SDPA when padding-free, only its own
    conversation's with a variable-length kernel (``varlen``)."""
    rows = list(shape.lengths)
    random.Random(seed).shuffle(rows)
    linear, per_context = 2 * shape.matmul_params, 4 * shape.attention_width * shape.layers
    padded = flat = 0.0
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        longest, total = max(chunk), sum(chunk)
        padded += len(chunk) * longest * (linear + per_context * longest)
        flat += sum(n * (linear + per_context * (n if varlen else total)) for n in chunk)
    return padded, flat


def liger_installed() -> bool:
    return importlib.util.find_spec("liger_kernel") is not None


def batching(config: RunConfig, shape: BatchShape | None = None, cuda: bool = False) -> str:
    """'packed', 'padding-free' or 'padded': padding-free when the settings allow it and, for a known ``shape``,
    when it costs less compute than padding on this device's attention."""
    if config.packing:
        return "packed"
    if not config.padding_free:
        return "padded"
    if shape is None or not shape.lengths:
        return "padding-free"
    padded, flat = layout_costs(shape, config.per_device_train_batch_size, _varlen(cuda), config.seed)
    return "padding-free" if flat < padded else "padded"


def _varlen(cuda: bool) -> bool:
    return attention_implementation(cuda) == "flash_attention_2"


def uses_liger(config: RunConfig, cuda: bool) -> bool:
    return config.liger_kernels and cuda and liger_installed()


def speedups(config: RunConfig, cuda: bool, shape: BatchShape | None = None) -> list[Speedup]:
    """The recipe of ``config`` on a CUDA device (``cuda``) or the CPU, for the data and model ``shape`` when known."""
    return [_batches(config, shape, cuda), _checkpointing(config), _liger(config, cuda), _attention(cuda)]


def recorded(config: RunConfig, cuda: bool, shape: BatchShape | None = None) -> list[dict[str, Any]]:
    """The recipe as the run record keeps it."""
    return [asdict(choice) for choice in speedups(config, cuda, shape)]


def _batches(config: RunConfig, shape: BatchShape | None, cuda: bool) -> Speedup:
    layout = batching(config, shape, cuda)
    if layout == "packed":
        reason = f"conversations packed best-fit into rows of {config.max_length} tokens, with no padding"
        return Speedup("Packing", True, reason, "packing", "packed rows")
    if not config.padding_free:
        reason = "turned off in the settings: each conversation is padded to the longest in its batch"
        return Speedup("Padding-free batching", False, reason, "padding_free", "padded batches")
    costs = layout_costs(shape, config.per_device_train_batch_size, _varlen(cuda), config.seed) if shape else None
    saving = f" (about {1 - costs[1] / costs[0]:.0%} less compute than padded batches)" if costs else ""
    if layout == "padding-free":
        reason = f"each batch's conversations laid end to end: no compute on padding, the same loss and steps{saving}"
        return Speedup("Padding-free batching", True, reason, "padding_free", "padding-free batches")
    reason = (
        f"not used for this data and model: padding-free batches would take about {costs[1] / costs[0] - 1:.0%} "
        "more compute than padded ones, because without FlashAttention each conversation attends over the whole "
        "batch, which costs more here than the padding saves"
    )
    return Speedup("Padding-free batching", False, reason, "padding_free", "padded batches")


def _checkpointing(config: RunConfig) -> Speedup:
    if config.gradient_checkpointing:
        reason = "on: about 20-30% slower, for much less activation memory (needed when the run does not fit)"
        return Speedup("Gradient checkpointing", True, reason, "gradient_checkpointing", "gradient checkpointing")
    reason = "off: the activations are kept, which is faster; the pre-flight turns it on only when memory needs it"
    return Speedup("Gradient checkpointing", False, reason, "gradient_checkpointing", "no gradient checkpointing")


def _liger(config: RunConfig, cuda: bool) -> Speedup:
    if not config.liger_kernels:
        reason = "turned off in the settings"
    elif not cuda:
        reason = "not used: they need an NVIDIA GPU"
    elif not liger_installed():
        reason = "not installed on this server (pip install liger-kernel): fused kernels, faster and less memory"
    else:
        reason = "fused RMSNorm, SwiGLU, RoPE and cross-entropy kernels: faster, and less memory for the logits"
    used = uses_liger(config, cuda)
    return Speedup("Liger kernels", used, reason, "liger_kernels", "Liger kernels" if used else "")


def _attention(cuda: bool) -> Speedup:
    if attention_implementation(cuda) == "flash_attention_2":
        reason = "installed, and the model trains on an NVIDIA GPU"
        return Speedup("FlashAttention 2", True, reason, short="FlashAttention 2")
    where = "the flash-attn package is not installed" if cuda else "FlashAttention needs an NVIDIA GPU"
    reason = f"PyTorch's scaled-dot-product attention instead ({where})"
    return Speedup("FlashAttention 2", False, reason, short="SDPA attention")
