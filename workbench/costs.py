"""What a run costs: peak memory, steps and tokens, wall time and disk, as arithmetic on the model's shape.

The inputs are ``ModelFacts`` (from config.json), the token length of every training conversation, the RunConfig and
the device. The numbers are estimates meant to tell "fits easily" from "will run out of memory", not to the last
gigabyte; ``workbench.preflight`` turns them into a verdict.

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

Time model: FLOPs per trained token 6*N for full fine-tuning and 4*N for LoRA/QLoRA (no weight gradients for the
frozen base), plus 3x the causal attention FLOPs 2*d_attn*s*L (performance.md §2.2), divided by an achieved
throughput: the GPU's dense bf16 peak times an MFU assumption (25 % for LoRA/QLoRA, plain HF+FA2 in §2.4; 35 % for
full fine-tuning, below the 45-56 % of tuned full-FT stacks in §2.4). Gradient checkpointing costs x1.27 (torchtune:
-21.4 % tokens/s, §1.5); QLoRA costs x1.1 plus the NF4 dequantisation traffic, about 4.5 bytes per quantised
parameter per pass at the GPU's memory bandwidth (§4.2). On a CPU the throughput is a conservative constant of
5 GFLOP/s per core, calibrated by timing forward/backward/AdamW steps of 0.5M-59M parameter Llama models on the
2-core development machine (10-19 GFLOP/s measured), with QLoRA x1.3 (measured 1.0-1.3x there).
"""

import math
import os
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from workbench.config import DEMO_DATASET, RunConfig
from workbench.model_facts import ModelFacts, lora_params, trainable_params
from workbench.sft import SAVE_TOTAL_LIMIT


GIB = 2**30
NF4_BYTES_PER_PARAM = 4.127 / 8  # NF4 + double quantisation constants (QLoRA paper)
CUDA_CONTEXT_GB = 0.75
CPU_PROCESS_GB = 1.0  # Python with torch, transformers and trl imported: 0.47 GB measured, plus datasets and Trainer
ALLOCATOR_SLACK = 0.05
LOSS_TILE_TOKENS, LOSS_TILE_VOCAB = 4096, 32768  # trl's fused LM head tiles
GC_SLOWDOWN = 1.27  # torchtune README: activation checkpointing -21.4 % tokens/s
QLORA_SLOWDOWN = 1.1
CPU_QLORA_SLOWDOWN = 1.3
DEQUANT_BYTES_PER_PARAM = 4.5  # read NF4, write and re-read bf16 (performance.md §4.2)
MFU = {"lora": 0.25, "qlora": 0.25, "full": 0.35, "freeze": 0.35}
CPU_GFLOPS_PER_CORE = 5.0
CPU_SECONDS_PER_MICRO_STEP = 0.02
GPU_SECONDS_PER_LAYER_STEP = 0.0025  # eager kernel launches, from ~25 ms per 32-layer forward (performance.md §3)
SETUP_SECONDS = 30.0
LOAD_GB_PER_SECOND = 1.0
DISK_MARGIN_GB = 0.5


@dataclass(frozen=True)
class GpuSpec:
    """Dense bf16 (fp16 where there is no bf16) tensor peak and memory bandwidth of one GPU model."""

    match: str
    peak_tflops: float
    bandwidth_tbs: float


# First match wins, so specific names come before their prefixes. H100 SXM/PCIe and A100 from performance.md §2.1;
# the others are vendor datasheet values (dense, no sparsity), rounded, not verified in the notes.
GPU_SPECS = (
    GpuSpec("GH200", 989.0, 4.0),
    GpuSpec("H200", 989.0, 4.8),
    GpuSpec("H100 PCIE", 756.0, 2.0),
    GpuSpec("H100", 989.4, 3.35),
    GpuSpec("H800", 989.0, 3.35),
    GpuSpec("B200", 2250.0, 8.0),
    GpuSpec("A100", 312.0, 1.6),
    GpuSpec("A800", 312.0, 1.6),
    GpuSpec("L40S", 362.0, 0.864),
    GpuSpec("L40", 181.0, 0.864),
    GpuSpec("A6000", 155.0, 0.768),
    GpuSpec("RTX 4090", 165.0, 1.0),
    GpuSpec("RTX 3090", 71.0, 0.936),
    GpuSpec("A10G", 70.0, 0.6),
    GpuSpec("A10", 125.0, 0.6),
    GpuSpec("L4", 121.0, 0.3),
    GpuSpec("V100", 125.0, 0.9),
    GpuSpec("T4", 65.0, 0.32),
)
UNKNOWN_GPU = GpuSpec("unknown GPU", 100.0, 1.0)


class DeviceLike(Protocol):
    """What ``models.DeviceInfo`` provides: where the run will train and how much memory it has."""

    cuda: bool
    name: str
    total_gb: float | None
    free_gb: float | None


# ---------------------------------------------------------------- memory


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
    """Tokens per row in the largest micro-batch: packed rows are full; padded ones are as long as the longest."""
    if config.packing or not token_lengths:
        return config.max_length
    return max(1, min(config.max_length, max(token_lengths)))


def available_memory_gb(device: DeviceLike, other_jobs_gb: float = 0.0) -> float | None:
    """Memory the run may use: free GPU memory (or host RAM on a CPU) minus what queued jobs will take."""
    free = device.free_gb
    if free is None:
        free = device.total_gb if device.cuda else host_available_gb()
    return None if free is None else round(free - other_jobs_gb, 2)


def host_available_gb() -> float | None:
    """Host RAM available right now, in GB (psutil when installed, else sysconf)."""
    try:
        import psutil

        return psutil.virtual_memory().available / GIB
    except ImportError:
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / GIB
        except (ValueError, OSError, AttributeError):
            return None


def free_disk_gb(path: str | Path) -> float:
    """Free space on the disk that holds ``path`` (or its nearest existing parent), in GB."""
    path = Path(path).expanduser().resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return round(shutil.disk_usage(path).free / GIB, 2)


# ---------------------------------------------------------------- tokens and steps


def optimizer_steps(n_rows: int, batch: int, accumulation: int, epochs: float, max_steps: int = 0) -> int:
    """Optimizer steps the HF Trainer will take (transformers' ``set_initial_training_values``)."""
    if max_steps > 0:
        return max_steps
    return math.ceil(epochs * steps_per_epoch(n_rows, batch, accumulation))


def steps_per_epoch(n_rows: int, batch: int, accumulation: int) -> int:
    return max(math.ceil(math.ceil(max(n_rows, 0) / batch) / accumulation), 1)


def held_out_rows(config: RunConfig, n_rows: int) -> int:
    """Rows split off for evaluation by ``validation_fraction`` (none when an evaluation file is used)."""
    if config.validation_fraction <= 0 or config.eval_dataset.strip() or config.dataset == DEMO_DATASET:
        return 0
    return min(n_rows - 1, math.ceil(n_rows * config.validation_fraction)) if n_rows > 1 else 0


def _train_lengths(config: RunConfig, token_lengths: list[int], separate_eval: bool) -> tuple[list[int], list[int]]:
    """(training, held-out) token lengths, cut at max_length, in a fixed shuffled order; nothing is held out when
    the evaluation rows come from elsewhere (as in training)."""
    lengths = [max(1, min(length, config.max_length)) for length in token_lengths]
    random.Random(config.seed).shuffle(lengths)
    held = 0 if separate_eval else held_out_rows(config, len(lengths))
    return lengths[held:], lengths[:held]


def _rows_and_padded_tokens(config: RunConfig, lengths: list[int]) -> tuple[int, int]:
    """Rows per epoch after packing, and the tokens the model processes per epoch, padding included."""
    if config.packing:
        return math.ceil(sum(lengths) / config.max_length), sum(lengths)
    batch = config.per_device_train_batch_size
    padded = sum(len(chunk) * max(chunk) for chunk in (lengths[i : i + batch] for i in range(0, len(lengths), batch)))
    return len(lengths), padded


@dataclass(frozen=True)
class Schedule:
    """How much work a run is: rows, steps and tokens."""

    tokens_per_epoch: int  # real tokens, cut at max_length
    steps_per_epoch: int
    steps: int  # optimizer steps
    micro_steps: int  # forward/backward passes
    processed_tokens: float  # over the whole run, padding included
    eval_tokens: int  # per evaluation


def schedule(config: RunConfig, token_lengths: list[int], eval_token_lengths: list[int] | None = None) -> Schedule:
    """Steps and tokens of the run, from the token length of every training conversation."""
    train, held = _train_lengths(config, token_lengths, eval_token_lengths is not None)
    evaluated = held if eval_token_lengths is None else [min(n, config.max_length) for n in eval_token_lengths]
    rows, padded_per_epoch = _rows_and_padded_tokens(config, train)
    batch, accumulation = config.per_device_train_batch_size, config.gradient_accumulation_steps
    per_epoch = steps_per_epoch(rows, batch, accumulation)
    steps = optimizer_steps(rows, batch, accumulation, config.num_train_epochs, config.max_steps)
    epochs = steps / per_epoch
    return Schedule(
        tokens_per_epoch=sum(train),
        steps_per_epoch=per_epoch,
        steps=steps,
        micro_steps=math.ceil(epochs * math.ceil(rows / batch)),
        processed_tokens=padded_per_epoch * epochs,
        eval_tokens=sum(evaluated),
    )


# ---------------------------------------------------------------- time


def gpu_spec(name: str) -> GpuSpec:
    """Peak and bandwidth of the GPU whose name contains one of the known model names."""
    upper = name.upper()
    return next((spec for spec in GPU_SPECS if spec.match in upper), UNKNOWN_GPU)


def flops_per_token(config: RunConfig, facts: ModelFacts, mean_len: float) -> float:
    """Training FLOPs per token: 6N full, 4N LoRA/QLoRA, 2N + 4N_trainable freeze; plus 3x attention (§2.2)."""
    n_mm = facts.matmul_params
    attention = 2 * facts.q_dim * mean_len * facts.n_layers  # A: causal attention forward per token
    if config.method == "full":
        return 6 * n_mm + 3 * attention
    if config.method == "freeze":
        share = min(config.freeze_trainable_layers, facts.n_layers) / facts.n_layers
        return 2 * n_mm + 4 * share * facts.n_layers * facts.layer_linear_params + (1 + 2 * share) * attention
    return 4 * n_mm + 6 * lora_params(facts, config.lora_r, config.target_modules) + 3 * attention


def _achieved_flops(config: RunConfig, device: DeviceLike) -> tuple[float, str]:
    """FLOP/s the run is assumed to reach, and a sentence saying what that assumption is."""
    if not device.cuda:
        cores = _cpu_cores(device.name)
        note = f"assumes {CPU_GFLOPS_PER_CORE:g} GFLOP/s per CPU core x {cores} cores (measured on a 2-core machine)"
        return CPU_GFLOPS_PER_CORE * cores * 1e9, note
    spec = gpu_spec(device.name)
    mfu = MFU[config.method]
    note = f"assumes {mfu:.0%} of the {spec.match}'s {spec.peak_tflops:g} TFLOP/s bf16 peak"
    return spec.peak_tflops * 1e12 * mfu, note


def throughput_note(config: RunConfig, device: DeviceLike) -> str:
    """What the time estimate assumes about the device's speed, as a phrase."""
    return _achieved_flops(config, device)[1]


def _cpu_cores(name: str) -> int:
    found = re.search(r"(\d+)\s*core", name)
    return int(found.group(1)) if found else os.cpu_count() or 1


def estimate_seconds(config: RunConfig, facts: ModelFacts, device: DeviceLike, work: Schedule) -> float:
    """Wall time: loading, training (with the checkpointing and 4-bit costs) and the evaluations along the way."""
    achieved, _ = _achieved_flops(config, device)
    rows = max(1, work.micro_steps * config.per_device_train_batch_size)
    train = work.processed_tokens * flops_per_token(config, facts, work.processed_tokens / rows) / achieved
    train *= GC_SLOWDOWN if config.gradient_checkpointing else 1.0
    if config.method == "qlora":
        slowdown = QLORA_SLOWDOWN if device.cuda else CPU_QLORA_SLOWDOWN
        train = train * slowdown + work.micro_steps * _dequant_seconds(config, facts, device)
    per_micro_step = GPU_SECONDS_PER_LAYER_STEP * facts.n_layers if device.cuda else CPU_SECONDS_PER_MICRO_STEP
    evaluations = work.steps // (config.eval_steps or max(1, work.steps // 10)) if work.eval_tokens else 0
    evaluating = evaluations * work.eval_tokens * 2 * facts.matmul_params / achieved
    setup = SETUP_SECONDS + facts.n_params * 2 / GIB / LOAD_GB_PER_SECOND
    return setup + train + work.micro_steps * per_micro_step + evaluating


def _dequant_seconds(config: RunConfig, facts: ModelFacts, device: DeviceLike) -> float:
    """NF4 dequantisation per micro-step: each pass reads NF4 and writes and re-reads bf16 (performance.md §4.2)."""
    if not device.cuda:
        return 0.0
    passes = 3 if config.gradient_checkpointing else 2
    traffic = passes * DEQUANT_BYTES_PER_PARAM * facts.n_layers * facts.layer_linear_params
    return traffic / (gpu_spec(device.name).bandwidth_tbs * 1e12)


# ---------------------------------------------------------------- disk


def disk_needed_gb(config: RunConfig, facts: ModelFacts, steps: int, cuda: bool) -> float:
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
    save_every = config.save_steps or max(1, steps // 4)
    kept = min(steps // save_every, SAVE_TOTAL_LIMIT + 1)
    needed = (final + kept * checkpoint) / GIB
    return round(needed * 1.1 + DISK_MARGIN_GB, 2)
