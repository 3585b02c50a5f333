"""Fixtures of the training benchmark (``bench_training.py``), made offline in a scratch folder: a Llama-shaped
model with random weights built from a config (the demo model's tokenizer and chat template, so that the
workbench's rendering and TRL's both apply), and seeded synthetic chat data in two length profiles.

- ``varied``: conversation lengths log-normal (median about 1/8 of max length, the longest cut at max length), like
  FLAN-style instruction data, where padding to the longest row of a batch wastes most of the compute;
- ``uniform``: lengths normal around 2/5 of max length with a small spread, like OrcaMath-style data.
"""

import json
import math
import random
from pathlib import Path


PROFILES = ("varied", "uniform")
MODEL_SHAPE = {  # protocol (a) of ../shared/notes/performance.md: about 6M parameters with a 1k vocabulary
    "hidden_size": 256,
    "intermediate_size": 688,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


def build_model(folder: Path, max_length: int) -> Path:
    """A random-weight Llama with ``MODEL_SHAPE`` and the demo model's tokenizer, saved as a model folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from workbench.models import loading

    tokenizer = loading.load_tokenizer(str(loading.ensure_demo_model()))
    config = LlamaConfig(
        **MODEL_SHAPE,
        vocab_size=len(tokenizer),
        max_position_embeddings=max(2048, max_length),
        tie_word_embeddings=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def target_lengths(profile: str, rows: int, max_length: int, seed: int = 0) -> list[int]:
    """Token lengths (approximate: the template adds a few) for ``rows`` conversations of ``profile``."""
    rng = random.Random(seed)
    if profile == "varied":
        median = max_length / 8
        sigma = math.log(max_length * 0.9 / median) / 1.645  # the 95th percentile near 90% of max length
        lengths = [rng.lognormvariate(math.log(median), sigma) for _ in range(rows)]
    elif profile == "uniform":
        lengths = [rng.gauss(0.4 * max_length, 0.06 * max_length) for _ in range(rows)]
    else:
        raise ValueError(f"unknown profile {profile}")
    return [int(min(max_length, max(24, length))) for length in lengths]


def write_dataset(path: Path, model_folder: Path, profile: str, rows: int, max_length: int) -> Path:
    """Seeded chat rows (one question, one answer) of ``profile`` as a JSONL file."""
    from workbench.models import loading

    tokenizer = loading.load_tokenizer(str(model_folder))
    words = [word for word in tokenizer.get_vocab() if word.isalpha() and word.isascii() and len(word) > 2]
    words.sort()
    rng = random.Random(f"{profile}-{rows}")
    sample = " ".join(rng.choice(words) for _ in range(400))
    per_word = len(tokenizer(sample, add_special_tokens=False)["input_ids"]) / 400  # words split into sub-words
    with open(path, "w", encoding="utf-8") as handle:
        for length in target_lengths(profile, rows, max_length):
            question = max(4, round(length / 5 / per_word))
            answer = max(4, round((length - 12) / per_word) - question)  # the template's markers: about 12 tokens
            row = {
                "messages": [
                    {"role": "user", "content": " ".join(rng.choice(words) for _ in range(question))},
                    {"role": "assistant", "content": " ".join(rng.choice(words) for _ in range(answer))},
                ]
            }
            handle.write(json.dumps(row) + "\n")
    return path
