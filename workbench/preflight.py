"""Pre-flight: before Start, will this run fit, how long will it take, and what to change if it will not fit.

Everything here is arithmetic on the model's ``config.json`` (no weights are loaded), the token length of every
training conversation, and the device. The numbers are estimates meant to tell "fits easily" from "will run out of
memory", not to the last gigabyte. ``estimate`` returns a green/amber/red verdict with plain-language reasons and
one-click fixes (RunConfig changes) that each lower the estimated memory.

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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from workbench.config import DEMO_DATASET, DEMO_MODEL, RunConfig
from workbench.errors import UserError


GIB = 2**30
NF4_BYTES_PER_PARAM = 4.127 / 8  # NF4 + double quantisation constants (QLoRA paper)
CUDA_CONTEXT_GB = 0.75
CPU_PROCESS_GB = 1.0  # Python with torch, transformers and trl imported: 0.47 GB measured, plus datasets and Trainer
ALLOCATOR_SLACK = 0.05
LOSS_TILE_TOKENS, LOSS_TILE_VOCAB = 4096, 32768  # trl's fused LM head tiles
AMBER_MEMORY_FRACTION = 0.85
VERY_LONG_SECONDS = 24 * 3600
SAVE_TOTAL_LIMIT = 2
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
UNGATED_MODEL_TYPES = {"gpt2", "gpt_bigcode", "gpt_neox", "gptj", "opt", "bloom", "falcon", "phi", "codegen"}
LEARNED_POSITION_MODEL_TYPES = {"gpt2", "gpt_bigcode", "opt"}
QKV_BIAS_MODEL_TYPES = {"qwen2", "qwen2_moe"}
MODULE_ALIASES = {
    "qkv_proj": ("q_proj", "k_proj", "v_proj"),
    "c_attn": ("q_proj", "k_proj", "v_proj"),
    "query_key_value": ("q_proj", "k_proj", "v_proj"),
    "gate_up_proj": ("gate_proj", "up_proj"),
    "w1": ("gate_proj",),
    "w3": ("up_proj",),
    "w2": ("down_proj",),
    "c_fc": ("up_proj",),
    "fc1": ("up_proj",),
    "fc2": ("down_proj",),
    "out_proj": ("o_proj",),
    "dense": ("o_proj",),
}


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


@dataclass(frozen=True)
class ModelFacts:
    """The shape of a decoder-only language model, read from its config.json."""

    model_type: str
    n_layers: int
    hidden_size: int
    intermediate_size: int
    vocab_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    tied_embeddings: bool
    gated_mlp: bool = True
    qkv_bias: bool = False
    out_bias: bool = False
    mlp_bias: bool = False
    n_experts: int = 1
    experts_per_token: int = 1
    position_embeddings: int = 0

    @property
    def q_dim(self) -> int:
        return self.n_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.n_kv_heads * self.head_dim

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """(inputs, outputs) of each linear layer in one decoder layer, Llama names; MLP sizes per expert."""
        h, q, kv, i = self.hidden_size, self.q_dim, self.kv_dim, self.intermediate_size
        shapes = {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h), "up_proj": (h, i)}
        if self.gated_mlp:
            shapes["gate_proj"] = (h, i)
        shapes["down_proj"] = (i, h)
        return shapes

    def module_copies(self, name: str) -> int:
        """How many copies of a linear layer one decoder layer holds (the MLP's once per expert)."""
        return self.n_experts if name in ("gate_proj", "up_proj", "down_proj") else 1

    @property
    def layer_linear_params(self) -> int:
        return sum(d_in * d_out * self.module_copies(name) for name, (d_in, d_out) in self.linear_shapes().items())

    @property
    def layer_params(self) -> int:
        """One decoder layer: linear weights, biases, norms and an MoE router."""
        h, q, kv, i = self.hidden_size, self.q_dim, self.kv_dim, self.intermediate_size
        biases = (q + 2 * kv) * self.qkv_bias + h * self.out_bias
        biases += (i * (1 + self.gated_mlp) + h) * self.mlp_bias * self.n_experts  # up (and gate), down
        norms = 2 * h * (1 if self.gated_mlp else 2)  # RMSNorm weight, or LayerNorm weight and bias
        router = h * self.n_experts if self.n_experts > 1 else 0
        return self.layer_linear_params + biases + norms + router

    @property
    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size + self.position_embeddings * self.hidden_size

    @property
    def lm_head_params(self) -> int:
        """Parameters of a separate output layer; 0 when it shares the embedding's weights."""
        return 0 if self.tied_embeddings else self.vocab_size * self.hidden_size

    @property
    def n_params(self) -> int:
        final_norm = self.hidden_size * (1 if self.gated_mlp else 2)
        return self.embedding_params + self.n_layers * self.layer_params + final_norm + self.lm_head_params

    @property
    def matmul_params(self) -> int:
        """N_mm in performance.md §2.2: the linear weights one token passes through, plus the LM head."""
        active = self.layer_linear_params
        if self.n_experts > 1:
            mlp = sum(
                d_in * d_out for name, (d_in, d_out) in self.linear_shapes().items() if self.module_copies(name) > 1
            )
            active -= mlp * (self.n_experts - self.experts_per_token)
        return self.n_layers * active + self.vocab_size * self.hidden_size


@dataclass(frozen=True)
class Fix:
    """One click that makes the run fit better: RunConfig field -> new value, and the memory it would then need."""

    label: str
    changes: dict[str, Any]
    peak_memory_gb: float = 0.0


@dataclass
class Preflight:
    """The pre-flight verdict for one run configuration on one device."""

    verdict: str  # "green" | "amber" | "red"
    reasons: list[str]
    fixes: list[Fix]
    peak_memory_gb: float
    available_gb: float | None
    memory_breakdown: dict[str, float]
    tokens_per_epoch: int
    steps: int
    steps_per_epoch: int
    est_seconds: float
    disk_needed_gb: float
    free_disk_gb: float
    device_name: str
    trainable_params: int
    throughput_note: str = ""


# ---------------------------------------------------------------- model facts


def model_facts(model_path: str) -> ModelFacts:
    """The model's shape from its config.json alone (a local folder, a hub id transformers can resolve, or 'demo')."""
    if model_path.strip() == DEMO_MODEL:
        return _demo_facts()
    return facts_from_config(_read_config(model_path), model_path)


def _demo_facts() -> ModelFacts:
    """The built-in demo model's shape, from its folder when built, else from its recipe (no need to build it)."""
    from workbench import demo, models

    built = models.demo_model_dir() / "config.json"
    if built.is_file():
        return model_facts(str(built.parent))
    shape = {"model_type": "llama", "vocab_size": demo.TOKENIZER_VOCAB_SIZE, "tie_word_embeddings": True}
    return facts_from_config({**shape, **demo.MODEL_SHAPE}, "the demo model")


def _read_config(model_path: str) -> dict[str, Any]:
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(model_path)
        return config.get_text_config().to_dict()
    except (OSError, ValueError, KeyError):
        config_file = Path(model_path).expanduser() / "config.json"
        if not config_file.is_file():
            raise UserError(
                f"The settings of the model '{model_path}' (its config.json) could not be read; give the path of a "
                "model folder on this server."
            ) from None
        import json

        values = json.loads(config_file.read_text(encoding="utf-8"))
        return {**values, **(values.get("text_config") or {})}


def facts_from_config(values: dict[str, Any], name: str = "the model") -> ModelFacts:
    """ModelFacts from a config dict, accepting the Llama, GPT-2 and OPT spellings of each size."""
    hidden = _first(values, "hidden_size", "n_embd", "d_model")
    layers = _first(values, "num_hidden_layers", "n_layer", "num_layers")
    vocab = _first(values, "vocab_size")
    if not (hidden and layers and vocab):
        raise UserError(
            f"The config.json of {name} does not give its hidden size, layer count and vocabulary size, so its "
            "memory cannot be estimated."
        )
    model_type = str(values.get("model_type") or "")
    heads = _first(values, "num_attention_heads", "n_head") or max(1, hidden // 64)
    experts = _first(values, "num_local_experts", "num_experts", "n_routed_experts") or 1
    intermediate = _first(values, "moe_intermediate_size") if experts > 1 else 0
    gated = model_type not in UNGATED_MODEL_TYPES
    ungated_bias = not gated
    return ModelFacts(
        model_type=model_type,
        n_layers=layers,
        hidden_size=hidden,
        intermediate_size=intermediate or _first(values, "intermediate_size", "n_inner", "ffn_dim") or 4 * hidden,
        vocab_size=vocab,
        n_heads=heads,
        n_kv_heads=_first(values, "num_key_value_heads") or heads,
        head_dim=_first(values, "head_dim") or hidden // heads,
        tied_embeddings=bool(values.get("tie_word_embeddings", True)),
        gated_mlp=gated,
        qkv_bias=bool(values.get("attention_bias")) or model_type in QKV_BIAS_MODEL_TYPES or ungated_bias,
        out_bias=bool(values.get("attention_bias")) or ungated_bias,
        mlp_bias=bool(values.get("mlp_bias")) or ungated_bias,
        n_experts=experts,
        experts_per_token=min(experts, _first(values, "num_experts_per_tok") or 1),
        position_embeddings=_first(values, "n_positions", "max_position_embeddings")
        if model_type in LEARNED_POSITION_MODEL_TYPES
        else 0,
    )


def _first(values: dict[str, Any], *keys: str) -> int:
    for key in keys:
        value = values.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


# ---------------------------------------------------------------- parameters and memory


def lora_params(facts: ModelFacts, rank: int, target_modules: str = "all-linear") -> int:
    """Adapter parameters: r * (d_in + d_out) for each targeted linear layer (and each expert copy)."""
    shapes = facts.linear_shapes()
    targets = _targeted_modules(target_modules, shapes)
    per_layer = sum(rank * (shapes[name][0] + shapes[name][1]) * facts.module_copies(name) for name in targets)
    return per_layer * facts.n_layers


def _targeted_modules(target_modules: str, shapes: dict[str, tuple[int, int]]) -> set[str]:
    text = target_modules.strip()
    if text in ("all-linear", ""):
        return set(shapes)
    names = set()
    for raw in text.split(","):
        name = raw.strip().split(".")[-1]
        names.update(MODULE_ALIASES.get(name, (name,)))
    known = names & set(shapes)
    return known or set(shapes)  # names this estimate does not know: count every linear layer, to be safe


def trainable_params(config: RunConfig, facts: ModelFacts) -> int:
    """How many parameters the optimizer updates."""
    if config.method in ("lora", "qlora"):
        return lora_params(facts, config.lora_r, config.target_modules)
    if config.method == "freeze":
        return min(config.freeze_trainable_layers, facts.n_layers) * facts.layer_params + facts.hidden_size
    return facts.n_params


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


def _train_lengths(config: RunConfig, token_lengths: list[int]) -> tuple[list[int], list[int]]:
    """(training, held-out) token lengths, cut at max_length, in a fixed shuffled order."""
    lengths = [max(1, min(length, config.max_length)) for length in token_lengths]
    random.Random(config.seed).shuffle(lengths)
    held = held_out_rows(config, len(lengths))
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
    train, held = _train_lengths(config, token_lengths)
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


# ---------------------------------------------------------------- the estimate


def estimate(
    config: RunConfig,
    facts: ModelFacts,
    token_lengths: list[int],
    device: DeviceLike,
    free_disk_gb: float,
    other_jobs_gb: float = 0.0,
    eval_token_lengths: list[int] | None = None,
) -> Preflight:
    """Memory, tokens, steps, time and disk for ``config`` on ``device``, with a verdict, reasons and fixes.

    ``token_lengths`` holds the token count of every training conversation (chat template applied);
    ``eval_token_lengths`` those of a separate evaluation file, when there is one; ``other_jobs_gb`` is GPU memory
    set aside for jobs that are queued on the same GPU but have not allocated it yet.
    """
    work = schedule(config, token_lengths, eval_token_lengths)
    breakdown = memory_breakdown(config, facts, peak_seq_len(config, token_lengths), device.cuda)
    available = available_memory_gb(device, other_jobs_gb)
    result = Preflight(
        verdict="green",
        reasons=[],
        fixes=[],
        peak_memory_gb=round(sum(breakdown.values()), 2),
        available_gb=available,
        memory_breakdown=breakdown,
        tokens_per_epoch=work.tokens_per_epoch,
        steps=work.steps,
        steps_per_epoch=work.steps_per_epoch,
        est_seconds=round(estimate_seconds(config, facts, device, work), 1),
        disk_needed_gb=disk_needed_gb(config, facts, work.steps, device.cuda),
        free_disk_gb=round(free_disk_gb, 2),
        device_name=device.name,
        trainable_params=trainable_params(config, facts),
        throughput_note=_achieved_flops(config, device)[1],
    )
    _judge(result, config, token_lengths, device, other_jobs_gb)
    if available is not None and _memory_level(result.peak_memory_gb, available) != "green":
        result.fixes = offer_fixes(config, facts, token_lengths, device.cuda, available)
    return result


def _memory_level(memory: float, available: float | None) -> str:
    if available is None:
        return "amber"
    if memory > available:
        return "red"
    return "amber" if memory > AMBER_MEMORY_FRACTION * available else "green"


def _judge(result: Preflight, config: RunConfig, lengths: list[int], device: DeviceLike, other_jobs_gb: float) -> None:
    """Fill in the verdict and the plain-language reasons."""
    levels = [_memory_level(result.peak_memory_gb, result.available_gb)]
    result.reasons.append(_memory_sentence(result, device, other_jobs_gb))
    if result.disk_needed_gb > result.free_disk_gb:
        levels.append("red")
        result.reasons.append(
            f"The adapter and checkpoints need about {result.disk_needed_gb:.1f} GB of disk, but only "
            f"{result.free_disk_gb:.1f} GB are free; delete old runs or free some space first."
        )
    result.reasons.append(_time_sentence(result))
    if result.est_seconds > VERY_LONG_SECONDS:
        levels.append("amber")
        result.reasons.append(
            "That is more than a day; the Quick pilot preset or fewer epochs give a first result much sooner."
        )
    cut = sum(length > config.max_length for length in lengths)
    if lengths and cut / len(lengths) > 0.05 and not config.packing:
        result.reasons.append(
            f"{cut / len(lengths):.0%} of your conversations are longer than the max length of {config.max_length} "
            "tokens and will be cut short."
        )
    result.verdict = "red" if "red" in levels else "amber" if "amber" in levels else "green"


def _memory_sentence(result: Preflight, device: DeviceLike, other_jobs_gb: float) -> str:
    place = "GPU memory" if device.cuda else "memory (RAM)"
    need, have = result.peak_memory_gb, result.available_gb
    if have is None:
        return f"Training needs about {need:.1f} GB of {place}; how much is free could not be read, so check it."
    reserved = f" ({other_jobs_gb:.1f} GB are kept for jobs queued before this one)" if other_jobs_gb > 0 else ""
    if need > have:
        total = device.total_gb
        whole = f" The whole device has {total:.1f} GB." if total is not None and need > total else ""
        return (
            f"Training needs about {need:.1f} GB of {place}, but only {max(have, 0):.1f} GB are free on the "
            f"{device.name}{reserved}; it would stop with an out-of-memory error.{whole}"
        )
    share = need / have if have > 0 else 1.0
    if share > AMBER_MEMORY_FRACTION:
        return (
            f"Tight fit: training needs about {need:.1f} GB of the {have:.1f} GB of {place} free on the "
            f"{device.name} ({share:.0%}){reserved}; a little more use by anyone else would make it fail."
        )
    return (
        f"Fits: training needs about {need:.1f} GB of the {have:.1f} GB of {place} free on the "
        f"{device.name}{reserved}."
    )


def _time_sentence(result: Preflight) -> str:
    return (
        f"Estimated time: about {format_duration(result.est_seconds)} for {result.steps:,} steps "
        f"({result.tokens_per_epoch:,} tokens per epoch)."
    )


# ---------------------------------------------------------------- fixes


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
    if not cuda or config.method == "qlora":
        return None
    changes: dict[str, Any] = {"method": "qlora"}
    if config.method in ("full", "freeze"):
        changes["learning_rate"] = 2e-4
    return Fix("Switch to 4-bit QLoRA (trains a small adapter on a 4-bit copy of the model)", changes)


# ---------------------------------------------------------------- text


VERDICT_TEXT = {
    "green": "Ready to start.",
    "amber": "It should run, but read the notes below.",
    "red": "This run would fail as it is; apply a fix below or change the settings.",
}


def format_summary(preflight: Preflight) -> str:
    """A short plain-text report of the pre-flight check, one fact per line."""
    memory = f"Memory: about {preflight.peak_memory_gb:.1f} GB needed"
    if preflight.available_gb is not None:
        memory += f", {preflight.available_gb:.1f} GB free"
    lines = [
        f"Verdict: {preflight.verdict.upper()}. {VERDICT_TEXT[preflight.verdict]}",
        memory + ".",
        _time_line(preflight),
        f"Disk: about {preflight.disk_needed_gb:.1f} GB needed, {preflight.free_disk_gb:.1f} GB free.",
        *(f"- {reason}" for reason in preflight.reasons),
    ]
    if preflight.throughput_note:
        lines.append(f"The time estimate {preflight.throughput_note}.")
    if preflight.fixes:
        lines.append("Fixes:")
        lines += [f"- {fix.label}: about {fix.peak_memory_gb:.1f} GB" for fix in preflight.fixes]
    return "\n".join(lines)


def _time_line(preflight: Preflight) -> str:
    duration = format_duration(preflight.est_seconds)
    return f"Time: about {duration} ({preflight.steps:,} steps, {preflight.tokens_per_epoch:,} tokens per epoch)."


def format_duration(seconds: float) -> str:
    """'45 s', '12 min', '2 h 10 min' or '3 days 4 h'."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"
