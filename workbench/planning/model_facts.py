"""The shape of a language model from its ``config.json`` alone (no weights loaded), and its parameter counts.

``ModelFacts`` knows the Llama, GPT-2 and OPT spellings of each size, grouped-query attention, gated and plain MLPs,
biases, mixture-of-experts layers and tied embeddings, so that pre-flight can count parameters, LoRA adapter
parameters and trainable parameters for any decoder-only model a user points the workbench at.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.config import DEMO_MODEL, RunConfig
from workbench.errors import UserError
from workbench.training.speedups import BatchShape


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


def model_facts(model_path: str) -> ModelFacts:
    """The model's shape from its config.json alone (a local folder, a hub id transformers can resolve, or 'demo')."""
    if model_path.strip() == DEMO_MODEL:
        return _demo_facts()
    return facts_from_config(_read_config(model_path), model_path)


def _demo_facts() -> ModelFacts:
    """The built-in demo model's shape, from its folder when built, else from its recipe (no need to build it)."""
    from workbench.models import demo, loading

    built = loading.demo_model_dir() / "config.json"
    if built.is_file():
        return model_facts(str(built.parent))
    shape = {"model_type": "llama", "vocab_size": demo.TOKENIZER_VOCAB_SIZE, "tie_word_embeddings": True}
    return facts_from_config({**shape, **demo.MODEL_SHAPE}, "the demo model")


def _read_config(model_path: str) -> dict[str, Any]:
    """The model's config as a dict: through transformers (never running a model's own code), else the raw JSON."""
    from transformers import AutoConfig

    from workbench.models import loading

    folder = Path(model_path).expanduser()
    if (folder / "config.json").is_file():
        loading.refuse_remote_code(folder)
    try:
        return AutoConfig.from_pretrained(model_path, **loading.NO_REMOTE_CODE).get_text_config().to_dict()
    except (OSError, ValueError, KeyError):
        try:
            values = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            values = None
    if not isinstance(values, dict):
        raise UserError(
            f"The settings of the model '{model_path}' (its config.json) could not be read; give the path of a "
            "model folder on this server."
        )
    text = values.get("text_config")
    return {**values, **(text if isinstance(text, dict) else {})}


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


def batch_shape(config: RunConfig, facts: ModelFacts, token_lengths: list[int]) -> BatchShape:
    """What ``speedups.batching`` chooses the batch layout from, for the training rows' ``token_lengths``."""
    lengths = tuple(min(length, config.max_length) for length in token_lengths)
    return BatchShape(lengths, facts.matmul_params, facts.q_dim, facts.n_layers)
