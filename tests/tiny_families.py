"""The demo model dressed as real model families: its folder with a family's chat template as TRL ships it (the
templates the families' own models use; nobody here wrote them) and the special tokens that template needs.

In a real family the token that ends a turn is a trained one. The demo model learned one such token in its
pre-training, its end-of-text token (``<|im_end|>``, written after every document), so that token is renamed to the
family's end-of-turn token (and the start-of-text token to the family's, where it has one); the family's other
special tokens are added new, as inputs the adapter learns to read, like the demo's own ``<|im_start|>``."""

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trl


TEMPLATES = Path(trl.__file__).parent / "chat_templates"


@dataclass(frozen=True)
class Family:
    template: str  # a file in trl/chat_templates
    specials: tuple[str, ...]
    eos: str  # the family's eos token
    end_of_turn: str  # the token that closes an answer in its template
    bos: str = ""
    answer_prefix: str = ""
    turn_end: str = ""  # what closes an earlier answer, when not the end-of-turn token


FAMILIES = {
    "qwen2_5": Family("qwen2_5.jinja", ("<|im_start|>", "<|im_end|>", "<|endoftext|>"), "<|im_end|>", "<|im_end|>"),
    "qwen3": Family("qwen3.jinja", ("<|im_start|>", "<|im_end|>", "<think>", "</think>"), "<|im_end|>", "<|im_end|>"),
    "qwen3_5_think": Family(
        "qwen3_5_think.jinja", ("<|im_start|>", "<|im_end|>", "<think>", "</think>"), "<|im_end|>", "<|im_end|>"
    ),
    "qwen3_5_nothink": Family(
        "qwen3_5_nothink.jinja", ("<|im_start|>", "<|im_end|>", "<think>", "</think>"), "<|im_end|>", "<|im_end|>"
    ),
    "llama3": Family(
        "llama3.jinja",
        ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
        "<|eot_id|>",
        "<|eot_id|>",
        bos="<|begin_of_text|>",
    ),
    "gemma3": Family(
        "gemma3.jinja", ("<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"), "<eos>", "<end_of_turn>", bos="<bos>"
    ),
    "gptoss": Family(
        "gptoss.jinja",
        ("<|start|>", "<|channel|>", "<|message|>", "<|end|>", "<|return|>", "<|call|>"),
        "<|return|>",
        "<|return|>",
        answer_prefix="<|channel|>final<|message|>",
        turn_end="<|end|>",
    ),
    "phi3": Family(
        "phi3.jinja",
        ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|endoftext|>"),
        "<|endoftext|>",
        "<|end|>",
    ),
}


def family_tokenizer(demo_model_dir: Path, name: str, folder: Path | None = None):
    """The demo tokenizer as the family has it: its template, its end-of-turn token, its other special tokens."""
    from transformers import AutoTokenizer

    family = FAMILIES[name]
    folder = folder or Path(tempfile.mkdtemp(prefix=f"{name}-tokenizer-"))
    for file in ("tokenizer.json", "tokenizer_config.json"):
        text = (Path(demo_model_dir) / file).read_text(encoding="utf-8")
        renames = {"<|im_end|>": family.end_of_turn, "<|endoftext|>": family.bos or "<|endoftext|>"}
        for old, new in renames.items():
            text = text.replace(json.dumps(old), json.dumps(new))
        (folder / file).write_text(text, encoding="utf-8")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.add_special_tokens(
        {"additional_special_tokens": [t for t in family.specials if t not in tokenizer.get_vocab()]}
    )
    tokenizer.eos_token = family.eos
    if family.bos:
        tokenizer.bos_token = family.bos
    tokenizer.chat_template = (TEMPLATES / family.template).read_text(encoding="utf-8")
    return tokenizer


def family_model(demo_model_dir: Path, name: str, target: Path) -> Path:
    """A copy of the demo model folder with the family's tokenizer, the embeddings grown to its vocabulary."""
    from transformers import AutoModelForCausalLM

    shutil.copytree(demo_model_dir, target)
    (target / "chat_template.jinja").unlink(missing_ok=True)
    tokenizer = family_tokenizer(demo_model_dir, name, target)
    model = AutoModelForCausalLM.from_pretrained(demo_model_dir)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)  # initialised as the demo's own tokens
    model.config.eos_token_id = model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.config.bos_token_id = model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target
