"""Model shapes and devices shared by the estimate tests: published configs, as their config.json files give them."""

import json

from workbench.config import RunConfig
from workbench.models.device import Device
from workbench.planning.memory import peak_memory_gb
from workbench.planning.model_facts import ModelFacts


LLAMA2_7B = {
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "vocab_size": 32000,
    "tie_word_embeddings": False,
}
LLAMA31_8B = {**LLAMA2_7B, "intermediate_size": 14336, "num_key_value_heads": 8, "vocab_size": 128256}
LLAMA32_3B = {
    **LLAMA31_8B,
    "hidden_size": 3072,
    "intermediate_size": 8192,
    "num_hidden_layers": 28,
    "num_attention_heads": 24,
    "tie_word_embeddings": True,
}
RTX_4090 = Device(cuda=True, name="NVIDIA GeForce RTX 4090", total_gb=24.0, free_gb=23.5)
A100 = Device(cuda=True, name="NVIDIA A100-SXM4-40GB", total_gb=40.0, free_gb=39.5)
CPU = Device(cuda=False, name="CPU (2 cores)", total_gb=None, free_gb=16.0)
PLENTY_OF_DISK = 500.0


def config(**values) -> RunConfig:
    return RunConfig(model="/models/x", dataset="/data/train.jsonl", **values)


def estimated_memory(
    facts: ModelFacts, device: Device = RTX_4090, lengths: list[int] | None = None, **values
) -> float:
    rows = lengths or [values.get("max_length", 512)] * 64  # unknown data: every row as long as it may be
    return peak_memory_gb(config(**values), facts, rows, device.cuda)


def write_config(folder, values: dict) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(values), encoding="utf-8")
    return str(folder)
