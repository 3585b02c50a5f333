"""One arm of the GPU training benchmark (``bench_training_gpu.py``), run in a process of its own:
``python gpu_arms.py ARM SHAPE FOLDER OUT``. It builds the Llama-shaped model with random weights (or loads the saved
copy in 4 bits for QLoRA), trains ``WARMUP`` + ``BENCH_STEPS`` steps on pre-tokenised rows of varied lengths with
TRL's defaults or the workbench's recipe, and writes tokens per second, LoRA MFU, peak GPU memory and the
pre-flight's estimate as JSON.
"""

import dataclasses
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHAPES = {
    "1b": {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
           "num_key_value_heads": 8, "vocab_size": 128256, "tie_word_embeddings": True},
    "8b": {"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
           "num_key_value_heads": 8, "vocab_size": 128256, "tie_word_embeddings": False},
    "smoke": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "vocab_size": 512, "tie_word_embeddings": False},
}  # fmt: skip
ARMS = {  # name: changes to the workbench's default recipe (None: TRL's own defaults)
    "trl-defaults": None,
    "default": {},
    "sdpa": {"attention": "sdpa"},
    "packing": {"packing": True},
    "no-liger": {"liger_kernels": False},
    "gc-on": {"gradient_checkpointing": True},
    "qlora": {"method": "qlora"},
    "qlora-batch1": {"method": "qlora", "per_device_train_batch_size": 1},
}
PEAK_TFLOPS = 989.4  # H100/H200 SXM dense bf16, the convention for MFU
WARMUP = 3
MICRO_BATCH = 4
MAX_LENGTH = 2048
ROWS = 256


def lengths(rows: int, max_length: int, seed: int = 0) -> list[int]:
    """Log-normal document lengths, median 1/8 of max length, cut at max length (FLAN-like)."""
    rng = random.Random(seed)
    return [int(min(max_length, max(16, rng.lognormvariate(0, 1.1) * max_length / 8))) for _ in range(rows)]


def tokenizer_folder(folder: Path) -> Path:
    """A minimal fast tokenizer (pad and end-of-sequence only): the rows are token ids already."""
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    inner = Tokenizer(models.WordLevel({"<pad>": 0, "<eos>": 1, "<unk>": 2}, unk_token="<unk>"))
    wrapped = PreTrainedTokenizerFast(tokenizer_object=inner, pad_token="<pad>", eos_token="<eos>")
    wrapped.save_pretrained(folder)
    return folder


def run_config(arm: str, max_length: int) -> Any:
    from workbench.config import RunConfig

    changes = {key: value for key, value in (ARMS[arm] or {}).items() if key != "attention"}
    base = RunConfig(model="bench", dataset="bench", per_device_train_batch_size=MICRO_BATCH, max_length=max_length)
    return dataclasses.replace(base, lora_r=16, lora_alpha=32, **changes)


def build_model(shape: dict, arm: str, saved: Path | None, cuda: bool) -> Any:
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    from workbench.models import loading

    attention = (ARMS[arm] or {}).get("attention") or ("sdpa" if ARMS[arm] is None else None)
    attention = attention or loading.attention_implementation(cuda)
    if arm.startswith("qlora"):
        return loading.load_model(str(saved), "qlora", cuda)
    dtype = torch.bfloat16 if cuda else torch.float32
    config = LlamaConfig(**shape, max_position_embeddings=8192, attn_implementation=attention)
    with torch.device("cuda" if cuda else "cpu"):
        return AutoModelForCausalLM.from_config(config, dtype=dtype)


def trainer_for(arm: str, model: Any, rows: list[dict], folder: Path, cuda: bool, max_length: int) -> Any:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from workbench import schedule
    from workbench.training import sft, speedups

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder(folder / "tokenizer"))
    steps = WARMUP + int(os.environ.get("BENCH_STEPS", "10"))
    if ARMS[arm] is None:  # TRL's defaults: only what must be pinned to run at all
        args = SFTConfig(output_dir=str(folder / arm), max_steps=steps, per_device_train_batch_size=MICRO_BATCH,
                         max_length=max_length, report_to="none", save_strategy="no", use_cpu=not cuda,
                         bf16=cuda)  # fmt: skip
        lora = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
    else:
        config = dataclasses.replace(run_config(arm, max_length), max_steps=steps, save_steps=10**6)  # no saving
        shape = speedups.model_batch_shape(model, [len(row["input_ids"]) for row in rows])
        layout = speedups.batching(config, shape, cuda)  # as the training process chooses it
        args = sft.sft_config(config, folder / arm, schedule.plan(config, len(rows), False), False, cuda, layout)
        lora = sft.lora_config(config)
    return SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                      peft_config=lora)  # fmt: skip


def timed_training(trainer: Any, cuda: bool) -> tuple[float, int, int]:
    """Seconds, useful tokens and processed tokens of the steps after ``WARMUP``."""
    import torch
    from transformers import TrainerCallback

    sync = torch.cuda.synchronize if cuda else (lambda: None)
    marks: dict[str, float] = {}
    counts: list[tuple[int, int]] = []
    inner = trainer.data_collator

    def counting(features: list[dict]) -> dict:
        batch = inner(features)
        mask = batch.get("attention_mask")
        processed = batch["input_ids"].numel()
        counts.append((int(mask.sum()) if mask is not None else processed, processed))
        return batch

    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            if state.global_step == WARMUP:
                sync()
                marks["start"] = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            sync()
            marks["end"] = time.perf_counter()

    trainer.data_collator = counting
    trainer.add_callback(Timer())
    trainer.train()
    steps = trainer.state.global_step
    timed = counts[WARMUP:steps]
    return marks["end"] - marks["start"], sum(c[0] for c in timed), sum(c[1] for c in timed)


def mfu(shape: dict, tokens_per_s: float, doc_lengths: list[int]) -> float:
    from workbench.planning.model_facts import facts_from_config, lora_params

    facts = facts_from_config(shape)
    mean_context = sum(n * n for n in doc_lengths) / sum(doc_lengths)  # per token, over the documents it sits in
    attention = 2 * facts.q_dim * mean_context * facts.n_layers  # A: causal attention forward per token
    per_token = 4 * facts.matmul_params + 6 * lora_params(facts, 16) + 3 * attention
    return tokens_per_s * per_token / (PEAK_TFLOPS * 1e12)


def estimate_gb(shape: dict, arm: str, doc_lengths: list[int], max_length: int, cuda: bool) -> float:
    from workbench.planning.memory import peak_memory_gb
    from workbench.planning.model_facts import facts_from_config

    config = run_config(arm, max_length)
    if ARMS[arm] is None:
        config = dataclasses.replace(config, padding_free=False, gradient_checkpointing=True)
    return peak_memory_gb(config, facts_from_config(shape), doc_lengths, cuda)


def child(arm: str, shape_name: str, folder: Path, out: Path) -> None:
    import torch

    cuda = torch.cuda.is_available()
    shape, max_length = SHAPES[shape_name], MAX_LENGTH if shape_name != "smoke" else 128
    doc_lengths = lengths(ROWS, max_length)
    rng = random.Random(1)
    rows = [{"input_ids": [rng.randrange(3, shape["vocab_size"]) for _ in range(n)]} for n in doc_lengths]
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    model = build_model(shape, arm, folder / f"saved-{shape_name}", cuda)
    trainer = trainer_for(arm, model, rows, folder, cuda, max_length)
    ready = time.perf_counter() - started
    seconds, useful, processed = timed_training(trainer, cuda)
    result = {
        "arm": arm,
        "shape": shape_name,
        "attention": trainer.model.config._attn_implementation,
        "padding_free": bool(trainer.args.padding_free),
        "packing": bool(trainer.args.packing),
        "liger": bool(trainer.args.use_liger_kernel),
        "gradient_checkpointing": bool(trainer.args.gradient_checkpointing),
        "tokens_per_s": useful / seconds,
        "padding_fraction": 1 - useful / processed,
        "mfu": mfu(shape, useful / seconds, doc_lengths),
        "peak_allocated_gb": torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
        "peak_reserved_gb": torch.cuda.max_memory_reserved() / 2**30 if cuda else None,
        "estimated_gb": estimate_gb(shape, arm, doc_lengths, max_length, cuda),
        "seconds_to_first_step": ready,
    }
    out.write_text(json.dumps(result), encoding="utf-8")


def save_random_model(shape_name: str, folder: Path) -> None:
    """The random bf16 model saved once, for the QLoRA arm (bitsandbytes quantises while loading)."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    cuda = torch.cuda.is_available()
    config = LlamaConfig(**SHAPES[shape_name], max_position_embeddings=8192)
    with torch.device("cuda" if cuda else "cpu"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(folder / f"saved-{shape_name}")
    tokenizer_folder(folder / f"saved-{shape_name}")


if __name__ == "__main__":
    arm_name, shape_name, scratch, out_file = sys.argv[1:5]
    child(arm_name, shape_name, Path(scratch), Path(out_file))
