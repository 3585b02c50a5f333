"""What a run holds: its peak memory (GPU memory, or host RAM on a CPU) and its disk, as arithmetic on the
model's shape. An estimate meant to tell "fits easily" from "will run out of memory", not to the last gigabyte;
``workbench.planning.preflight`` turns it into a verdict.

Memory model (GiB = 2**30 bytes, written "GB" as the rest of the app does):

* Weights. QLoRA: the decoder's linear layers in NF4 with double quantisation, 4.127 bits = 0.516 bytes per parameter
  (QLoRA paper, arXiv 2305.14314: 0.127 bits of constants per parameter; ../shared/notes/performance.md §4.1);
  embeddings, norms and an untied LM head stay in the 16-bit compute type. Other methods: 2 bytes per parameter in
  bf16/fp16 on a GPU, 4 bytes (float32) on a CPU or with ``precision: fp32``.
* Trainable state: weights + gradients + the two Adam moments, all in the trainable parameters' own dtype (the HF
  Trainer keeps no separate fp32 master copy of a model loaded in bf16). LoRA adapters are float32 (peft's
  ``autocast_adapter_dtype``) so 16 bytes per adapter parameter; TRL casts QLoRA adapters to bf16 (trl 1.16
  ``sft_trainer.py``), so 8 bytes; full and freeze: 4x the weight dtype (8 bytes in bf16). Adapter parameters are
  ``r * (d_in + d_out)`` per targeted linear layer; "all-linear" is q, k, v, o, gate, up and down.
  Cross-check: Llama-3.2-3B full fine-tuning, batch 4 x 768 tokens without checkpointing, measured 38.9 GB on an L40S
  (performance.md §1.7, peft MetaMathQA); this model gives 38 GB.
* Activations per token and layer, measured here with ``torch.autograd.graph.saved_tensors_hooks`` on Llama-shaped
  models (transformers 5.23, peft 0.21, SDPA attention, which saves no seq x seq matrix): in 16 bits 22h + 8i bytes
  (full/freeze/QLoRA) or 39h + 10i (LoRA: the float32 adapters keep float32 copies of their inputs); in float32
  36h + 16i (full/freeze) or 29h + 16i (LoRA/QLoRA); h = hidden size, i = intermediate size. With gradient
  checkpointing only each layer's input is kept (2h or 4h bytes) plus one layer recomputed during the backward pass.
  'freeze' keeps activations only for its trainable layers. Plus one layer's worth as the backward pass's working
  set, and TRL's chunked loss tile (at most 4,096 tokens x 32,768 vocabulary x 4 bytes, trl ``add_fused_lm_head``).
* Overhead: 0.75 GB of CUDA context on a GPU (1 GB for the Python process on a CPU), plus 5 % allocator slack.

Disk: the final adapter (or model) plus the checkpoints on disk at once (``schedule.SAVE_TOTAL_LIMIT`` and the one
being written), each an adapter with its two Adam moments (or the whole model with the trainable state), +10% and
0.5 GB of margin.
"""

import math
import shutil
from pathlib import Path

from workbench.config import RunConfig
from workbench.models.device import GIB, Device, host_available_gb
from workbench.planning.model_facts import ModelFacts, trainable_params
from workbench.schedule import Plan
from workbench.training import distributed


NF4_BYTES_PER_PARAM = 4.127 / 8  # NF4 + double quantisation constants (QLoRA paper)
CUDA_CONTEXT_GB = 0.75
CPU_PROCESS_GB = 1.0  # Python with torch, transformers and trl imported: 0.47 GB measured, plus datasets and Trainer
ALLOCATOR_SLACK = 0.05
LOSS_TILE_TOKENS, LOSS_TILE_VOCAB = 4096, 32768  # trl's fused LM head tiles
DISK_MARGIN_GB = 0.5


def _weight_bytes(config: RunConfig, cuda: bool) -> int:
    """Bytes per weight (and per activation value) in the compute type."""
    return 2 if cuda and config.precision != "fp32" else 4


def memory_breakdown(config: RunConfig, facts: ModelFacts, seq_len: int, cuda: bool) -> dict[str, float]:
    """Estimated peak memory in GB, by part, for micro-batches of ``seq_len`` tokens per conversation."""
    wb = _weight_bytes(config, cuda)
    trainable = trainable_params(config, facts)
    if config.method == "qlora":
        quantized = facts.n_layers * facts.layer_linear_params
        weights = quantized * NF4_BYTES_PER_PARAM + (facts.n_params - quantized) * wb
        state = trainable * 4 * wb  # adapter cast to the compute type: weights, grads, two Adam moments
    elif config.method == "lora":
        weights, state = facts.n_params * wb, trainable * 16  # float32 adapter: 4 + 4 + 8 bytes
    else:
        weights, state = facts.n_params * wb, trainable * 3 * wb  # grads and two Adam moments, in the weight dtype
    if distributed.strategy(config.method, config.gpus) == "fsdp":  # each GPU holds its share (FSDP)
        weights, state = weights / config.gpus, state / config.gpus
    activations = _activation_bytes(config, facts, config.per_device_train_batch_size * seq_len, wb)
    parts = {"weights": weights / GIB, "training state": state / GIB, "activations": activations / GIB}
    slack = ALLOCATOR_SLACK * sum(parts.values())
    parts["overhead"] = slack + (CUDA_CONTEXT_GB if cuda else CPU_PROCESS_GB)
    return {name: round(value, 3) for name, value in parts.items()}


def _activation_bytes(config: RunConfig, facts: ModelFacts, tokens: int, wb: int) -> float:
    per_layer = _layer_activation_bytes(config.method, facts, wb)
    layers = min(config.freeze_trainable_layers, facts.n_layers) if config.method == "freeze" else facts.n_layers
    kept = wb * facts.hidden_size if config.gradient_checkpointing else per_layer
    per_token = kept * layers + per_layer + 4 * wb * facts.hidden_size  # + backward working set, embeddings/head
    loss_tile = min(tokens, LOSS_TILE_TOKENS) * min(facts.vocab_size, LOSS_TILE_VOCAB) * 4
    return tokens * per_token + loss_tile


def _layer_activation_bytes(method: str, facts: ModelFacts, wb: int) -> float:
    """Bytes autograd keeps per token in one decoder layer (measured, see the module docstring)."""
    h, i = facts.hidden_size, facts.intermediate_size * min(facts.experts_per_token, facts.n_experts)
    if wb == 2:
        return 39 * h + 10 * i if method == "lora" else 22 * h + 8 * i
    return 29 * h + 16 * i if method in ("lora", "qlora") else 36 * h + 16 * i


def peak_memory_gb(config: RunConfig, facts: ModelFacts, token_lengths: list[int], cuda: bool) -> float:
    """The estimated peak memory of training, in GB."""
    return round(sum(memory_breakdown(config, facts, peak_seq_len(config, token_lengths), cuda).values()), 2)


def peak_seq_len(config: RunConfig, token_lengths: list[int]) -> int:
    """Tokens per row in the largest micro-batch: packed rows are full; padded ones are as long as the longest;
    padding-free ones, at worst, the mean of the longest conversations that could meet in one batch."""
    if config.packing or not token_lengths:
        return config.max_length
    longest = sorted((min(config.max_length, length) for length in token_lengths), reverse=True)
    if config.padding_free:
        top = longest[: config.per_device_train_batch_size]
        return max(1, math.ceil(sum(top) / config.per_device_train_batch_size))
    return max(1, longest[0])


def available_memory_gb(device: Device, other_jobs_gb: float = 0.0) -> float | None:
    """Memory the run may use: free GPU memory (or host RAM on a CPU) minus what queued jobs will take."""
    free = device.free_gb
    if free is None:
        free = device.total_gb if device.cuda else host_available_gb()
    return None if free is None else round(free - other_jobs_gb, 2)


def free_disk_gb(path: str | Path) -> float:
    """Free space on the disk that holds ``path`` (or its nearest existing parent), in GB."""
    path = Path(path).expanduser().resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return round(shutil.disk_usage(path).free / GIB, 2)


def disk_needed_gb(config: RunConfig, facts: ModelFacts, plan: Plan, cuda: bool) -> float:
    """Final adapter (or model) + the checkpoints kept at once (save_total_limit + the one being written) + margin."""
    wb = _weight_bytes(config, cuda)
    trainable = trainable_params(config, facts)
    if config.method in ("lora", "qlora"):
        adapter_bytes = 2 if config.method == "qlora" and cuda else 4
        final = trainable * adapter_bytes
        checkpoint = trainable * adapter_bytes * 3  # adapter + the two Adam moments
    else:
        final = facts.n_params * wb
        checkpoint = final + trainable * 2 * wb
    needed = (final + plan.checkpoints_kept * checkpoint) / GIB
    return round(needed * 1.1 + DISK_MARGIN_GB, 2)
