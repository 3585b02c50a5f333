"""The README.md that travels with every download: what was trained on what, how well, and how to load it.

It answers what the person who receives a zip needs first (which base model, which chat template, what scores) and
gives code to load the result with transformers, peft and vLLM, so an adapter works elsewhere without guesswork.
"""

import shlex
from pathlib import Path
from typing import Any

from workbench.config import DEMO_MODEL, METHOD_LABELS
from workbench.models import loading
from workbench.results import answer_tables
from workbench.runs import checkpoints, held_out_scores, record
from workbench.runs.directory import Run


CARD_FILE = "README.md"
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)  # the values vLLM's --max-lora-rank accepts
SETTINGS = (
    ("Method", "method"),
    ("Epochs", "num_train_epochs"),
    ("Learning rate", "learning_rate"),
    ("Batch size x accumulation", None),
    ("Max length (tokens)", "max_length"),
    ("LoRA rank / alpha", None),
    ("Assistant-only loss", "assistant_only_loss"),
    ("Reasoning blocks", "reasoning"),
    ("Seed", "seed"),
)


def model_card(run: Run, merged: bool = False) -> str:
    """Markdown describing the run's adapter (or, with ``merged``, the merged model)."""
    config, facts = run.config, record.read_record(run.path)
    what = "merged model (adapter folded into the base weights)" if merged else _kind(run)
    base = base_reference(config.model)
    lines = [
        f"# {run.run_id}",
        "",
        f"A {what}, fine-tuned with SFT Workbench (TRL `SFTTrainer`) from the base model `{base}`.",
        *_checkpoint_lines(run),
        "The tokenizer files here carry the chat template used in training; use it, not another one, when prompting.",
        *_template_lines(facts),
        "",
        "## Training",
        "",
        "| setting | value |",
        "| --- | --- |",
        *(f"| {label} | {value} |" for label, value in _settings(run)),
        "",
        *_data_lines(facts),
        *_result_lines(run),
        "## Use",
        "",
        "```python",
        *(_merged_snippet() if merged or not run.is_adapter else _adapter_snippet(base)),
        "```",
        "",
    ]
    lines += ["With vLLM, from this folder:", "", "```bash", _vllm_line(run, base, merged), "```", ""]
    return "\n".join(lines)


def base_reference(model: str) -> str:
    """How someone else finds the base model: its hub id or folder (the built-in demo's folder on this server)."""
    return str(loading.demo_model_dir()) if model == DEMO_MODEL else model


def write_card(folder: Path, run: Run, merged: bool = False) -> Path:
    path = folder / CARD_FILE
    path.write_text(model_card(run, merged), encoding="utf-8")
    return path


def _checkpoint_lines(run: Run) -> list[str]:
    step = checkpoints.promoted_step(run.path)
    if step is None:
        return []
    return [f"These are the weights of the checkpoint saved at step {step}, promoted over the end of training."]


def _kind(run: Run) -> str:
    if run.is_adapter:
        return "LoRA adapter"
    if run.config.method == "freeze":
        return f"model fine-tuned in its last {run.config.freeze_trainable_layers} layers"
    return "fully fine-tuned model"


def _vllm_line(run: Run, base: str, merged: bool) -> str:
    if merged or not run.is_adapter:
        return "vllm serve ."
    rank = next((size for size in VLLM_LORA_RANKS if size >= run.config.lora_r), run.config.lora_r)
    adapter = shlex.quote(f"{run.run_id}=.")
    return f"vllm serve {shlex.quote(base)} --enable-lora --max-lora-rank {rank} --lora-modules {adapter}"


def _settings(run: Run) -> list[tuple[str, Any]]:
    config = run.config
    derived = {
        "Batch size x accumulation": f"{config.per_device_train_batch_size} x {config.gradient_accumulation_steps}",
        "LoRA rank / alpha": f"{config.lora_r} / {config.lora_alpha}" if run.is_adapter else "(no adapter)",
    }
    rows = []
    for label, name in SETTINGS:
        value = derived[label] if name is None else getattr(config, name)
        rows.append((label, METHOD_LABELS.get(value, value) if name == "method" else value))
    return rows


def _data_lines(facts: dict[str, Any]) -> list[str]:
    dataset = facts.get("dataset") or {}
    if not dataset:
        return []
    name, rows, digest = Path(dataset.get("path", "")).name, dataset.get("rows", "?"), dataset.get("sha256", "?")
    return ["## Data", "", f"`{name}`: {rows} records, SHA-256 `{digest}`.", ""]


def _result_lines(run: Run) -> list[str]:
    scores = held_out_scores.read_scores(run.path)
    tuned = scores.tuned
    if tuned is None:
        return []
    summary = (
        f"Held-out scores over {tuned.n} conversations, before training -> after: "
        f"{answer_tables.metrics_sentence(scores)}."
    )
    return ["## Results", "", summary, ""]


def _adapter_snippet(base_model: str) -> list[str]:
    return [
        "from peft import PeftModel",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        "",
        'adapter = "./"  # this folder',
        f"base = AutoModelForCausalLM.from_pretrained({base_model!r})",
        "model = PeftModel.from_pretrained(base, adapter)",
        "tokenizer = AutoTokenizer.from_pretrained(adapter)  # the training chat template",
        *_chat_lines(),
    ]


def _merged_snippet() -> list[str]:
    return [
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        "",
        'model = AutoModelForCausalLM.from_pretrained("./")  # this folder; no peft needed',
        'tokenizer = AutoTokenizer.from_pretrained("./")',
        *_chat_lines(),
    ]


def _template_lines(facts: dict[str, Any]) -> list[str]:
    if not facts.get("chat_template"):
        return []
    reasoning = facts.get("reasoning", "drop")
    sentence = f"It was trained with {facts['chat_template']} (reasoning blocks: {reasoning}); "
    return [sentence + "`rendering.json` says which token ends an answer, to stop generation there."]


def _chat_lines() -> list[str]:
    return [
        'messages = [{"role": "user", "content": "Hello!"}]',
        "inputs = tokenizer.apply_chat_template(  # enable_thinking=False, as in training (others ignore it)",
        '    messages, add_generation_prompt=True, return_tensors="pt", return_dict=True, enable_thinking=False',
        ")",
        "output = model.generate(**inputs, max_new_tokens=64)",
        'print(tokenizer.decode(output[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True))',
    ]
