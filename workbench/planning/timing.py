"""How much work a run is and how long it takes: rows, steps and tokens (padding and packing counted), and wall
time, as arithmetic on the model's shape, the token length of every training conversation and the device. The
steps, held-out rows and evaluation cadence come from ``workbench.schedule``, the trainer's own rules.

Time model: FLOPs per trained token 6*N for full fine-tuning and 4*N for LoRA/QLoRA (no weight gradients for the
frozen base), plus 3x the causal attention FLOPs 2*d_attn*s*L (performance.md §2.2), divided by an achieved
throughput: the GPU's dense bf16 peak times an MFU assumption (25 % for LoRA/QLoRA, plain HF+FA2 in §2.4; 35 % for
full fine-tuning, below the 45-56 % of tuned full-FT stacks in §2.4). Gradient checkpointing costs x1.27 (torchtune:
-21.4 % tokens/s, §1.5); QLoRA costs x1.1 plus the NF4 dequantisation traffic, about 4.5 bytes per quantised
parameter per pass at the GPU's memory bandwidth (§4.2). Answers written for scoring and samples are counted per
greedy step: a per-layer overhead plus the weights read once (GPU) or the FLOPs (CPU). On a CPU the throughput is a
conservative constant of 5 GFLOP/s per core, calibrated by timing forward/backward/AdamW steps of 0.5M-59M
parameter Llama models on the 2-core development machine (10-19 GFLOP/s measured), with QLoRA x1.3 (measured
1.0-1.3x there).
"""

import math
import os
import re
from dataclasses import dataclass

from workbench import schedule
from workbench.config import RunConfig
from workbench.evaluation.held_out import MAX_SCORED_ROWS
from workbench.models.device import GIB, Device
from workbench.models.generation import GENERATION_BATCH
from workbench.planning.model_facts import ModelFacts, lora_params


GC_SLOWDOWN = 1.27  # torchtune README: activation checkpointing -21.4 % tokens/s
QLORA_SLOWDOWN = 1.1
CPU_QLORA_SLOWDOWN = 1.3
DEQUANT_BYTES_PER_PARAM = 4.5  # read NF4, write and re-read bf16 (performance.md §4.2)
MFU = {"lora": 0.25, "qlora": 0.25, "full": 0.35, "freeze": 0.35}
CPU_GFLOPS_PER_CORE = 5.0
CPU_SECONDS_PER_MICRO_STEP = 0.02
GPU_SECONDS_PER_LAYER_STEP = 0.0025  # eager kernel launches, from ~25 ms per 32-layer forward (performance.md §3)
GPU_SECONDS_PER_DECODE_LAYER = GPU_SECONDS_PER_LAYER_STEP / 3  # one forward, no backward: ~25 ms for 32 layers
CPU_SECONDS_PER_DECODE_LAYER = 0.0015  # the 2-layer demo model decodes a step in 2.6-3.8 ms on 2 cores (measured)
SETUP_SECONDS = 30.0
LOAD_GB_PER_SECOND = 1.0


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


# ---------------------------------------------------------------- tokens and steps


@dataclass(frozen=True)
class Workload:
    """How much work a run is: its plan (held-out rows, steps, cadence) and the tokens it processes."""

    plan: schedule.Plan
    tokens_per_epoch: int  # real tokens of the training rows, cut at max_length
    micro_steps: int  # forward/backward passes
    processed_tokens: float  # over the whole run, padding included
    eval_tokens: int  # per evaluation
    eval_rows: int = 0  # held-out conversations: evaluated for the loss, answered for the scores

    @property
    def steps(self) -> int:
        return self.plan.total_steps


def workload(config: RunConfig, token_lengths: list[int], eval_token_lengths: list[int] | None = None) -> Workload:
    """The work of the run from the token length of every training conversation (and of a separate evaluation
    set's, when the held-out rows come from elsewhere); the same rows are held out as the trainer holds out."""
    separate_eval = eval_token_lengths is not None
    lengths = [max(1, min(length, config.max_length)) for length in token_lengths]
    fraction, seed = config.validation_fraction, config.seed
    train, held = (lengths, []) if separate_eval else schedule.split_rows(lengths, fraction, seed)
    evaluated = held if eval_token_lengths is None else [min(n, config.max_length) for n in eval_token_lengths]
    packed = math.ceil(sum(train) / config.max_length) if config.packing else None
    plan = schedule.plan(config, len(lengths), separate_eval, packed)
    rows = packed if packed is not None else len(train)
    epochs = plan.total_steps / plan.steps_per_epoch
    return Workload(
        plan=plan,
        tokens_per_epoch=sum(train),
        micro_steps=math.ceil(epochs * math.ceil(rows / config.per_device_train_batch_size)),
        processed_tokens=_padded_tokens(config, train) * epochs,
        eval_tokens=sum(evaluated),
        eval_rows=len(evaluated),
    )


def _padded_tokens(config: RunConfig, lengths: list[int]) -> int:
    """Tokens the model processes in one epoch, padding included (packed and padding-free batches have none)."""
    if config.packing or config.padding_free:
        return sum(lengths)
    batch = config.per_device_train_batch_size
    return sum(len(chunk) * max(chunk) for chunk in (lengths[i : i + batch] for i in range(0, len(lengths), batch)))


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


def _achieved_flops(config: RunConfig, device: Device) -> tuple[float, str]:
    """FLOP/s the run is assumed to reach, and a sentence saying what that assumption is."""
    if not device.cuda:
        cores = _cpu_cores(device.name)
        note = f"assumes {CPU_GFLOPS_PER_CORE:g} GFLOP/s per CPU core x {cores} cores (measured on a 2-core machine)"
        return CPU_GFLOPS_PER_CORE * cores * 1e9, note
    spec = gpu_spec(device.name)
    mfu = MFU[config.method]
    note = f"assumes {mfu:.0%} of the {spec.match}'s {spec.peak_tflops:g} TFLOP/s bf16 peak"
    return spec.peak_tflops * 1e12 * mfu, note


def throughput_note(config: RunConfig, device: Device) -> str:
    """What the time estimate assumes about the device's speed, as a phrase."""
    return _achieved_flops(config, device)[1]


def _cpu_cores(name: str) -> int:
    found = re.search(r"(\d+)\s*core", name)
    return int(found.group(1)) if found else os.cpu_count() or 1


def estimate_seconds(config: RunConfig, facts: ModelFacts, device: Device, work: Workload) -> float:
    """Wall time: loading, training (with the checkpointing and 4-bit costs) and the evaluations along the way."""
    achieved, _ = _achieved_flops(config, device)
    rows = max(1, work.micro_steps * config.per_device_train_batch_size)
    train = work.processed_tokens * flops_per_token(config, facts, work.processed_tokens / rows) / achieved
    train *= GC_SLOWDOWN if config.gradient_checkpointing else 1.0
    if config.method == "qlora":
        slowdown = QLORA_SLOWDOWN if device.cuda else CPU_QLORA_SLOWDOWN
        train = train * slowdown + work.micro_steps * _dequant_seconds(config, facts, device)
    per_micro_step = GPU_SECONDS_PER_LAYER_STEP * facts.n_layers if device.cuda else CPU_SECONDS_PER_MICRO_STEP
    evaluations = work.plan.evaluations if work.eval_tokens else 0
    evaluating = evaluations * work.eval_tokens * 2 * facts.matmul_params / achieved
    setup = SETUP_SECONDS + facts.n_params * 2 / GIB / LOAD_GB_PER_SECOND
    answering = generation_seconds(config, facts, device, work)
    return setup + train + work.micro_steps * per_micro_step + evaluating + answering


def generation_seconds(config: RunConfig, facts: ModelFacts, device: Device, work: Workload) -> float:
    """Writing answers besides training: the held-out scores of the untrained and the trained model (up to
    ``MAX_SCORED_ROWS`` each) and the sample answers at the start, at each evaluation and at the end. Counted at the
    full answer length for scoring, since an untrained model seldom stops by itself."""
    if not work.eval_rows:
        return 0.0
    scored = min(work.eval_rows, MAX_SCORED_ROWS)
    batches = 2 * math.ceil(scored / GENERATION_BATCH) + work.plan.evaluations + 2
    return batches * config.max_new_tokens_eval * _decode_step_seconds(facts, device)


def _decode_step_seconds(facts: ModelFacts, device: Device) -> float:
    """One greedy step for a batch: per-layer overhead, plus the weights read once (GPU) or the FLOPs (CPU)."""
    if device.cuda:
        weights = facts.n_params * 2 / (gpu_spec(device.name).bandwidth_tbs * 1e12)
        return facts.n_layers * GPU_SECONDS_PER_DECODE_LAYER + weights
    achieved = CPU_GFLOPS_PER_CORE * _cpu_cores(device.name) * 1e9
    return facts.n_layers * CPU_SECONDS_PER_DECODE_LAYER + GENERATION_BATCH * 2 * facts.matmul_params / achieved


def _dequant_seconds(config: RunConfig, facts: ModelFacts, device: Device) -> float:
    """NF4 dequantisation per micro-step: each pass reads NF4 and writes and re-reads bf16 (performance.md §4.2)."""
    if not device.cuda:
        return 0.0
    passes = 3 if config.gradient_checkpointing else 2
    traffic = passes * DEQUANT_BYTES_PER_PARAM * facts.n_layers * facts.layer_linear_params
    return traffic / (gpu_spec(device.name).bandwidth_tbs * 1e12)
