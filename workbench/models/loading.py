"""Finding and loading base models and their tokenizers: the built-in demo model, a local folder, or a hub id.

The demo model is built offline on first use and cached under the data folder (see ``workbench.models.demo``); a
file lock makes concurrent first uses build it once.
"""

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench import paths
from workbench.config import DEMO_MODEL
from workbench.errors import UserError


def demo_model_dir() -> Path:
    return paths.models_dir() / "demo"


def ensure_demo_model(progress: Callable[[float, str], None] | None = None) -> Path:
    """The demo model's folder, built on first use (once, even when several processes ask at the same time)."""
    target = demo_model_dir()
    if (target / "config.json").is_file():
        return target
    from workbench.models import demo

    with open(paths.models_dir() / ".demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "config.json").is_file():
            demo.build_demo_model(target, progress=progress)
    return target


def resolve_model(model: str, progress: Callable[[float, str], None] | None = None) -> str:
    """A path or hub id that ``from_pretrained`` can load, or a UserError saying what to do."""
    model = model.strip()
    if model == DEMO_MODEL:
        return str(ensure_demo_model(progress))
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"The folder {path} has no config.json; point to a Hugging Face model folder.")
        return str(path)
    if model.startswith(("/", ".", "~")) or model.count("/") > 1:
        raise UserError(f"There is no model folder at {model}; check the path on the server.")
    return model


def load_tokenizer(model_path: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_path)
    except OSError:
        raise not_loadable(model_path) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def quantization_config(method: str, cuda: bool) -> Any:
    """The 4-bit NF4 config with double quantisation for QLoRA; None for the other methods."""
    if method != "qlora":
        return None
    import torch
    from transformers import BitsAndBytesConfig

    compute = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    return BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=compute
    )


def load_model(model_path: str, method: str = "lora", cuda: bool = False) -> Any:
    """Load a causal LM for training or chat; 4-bit when the method is QLoRA."""
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {}
    quant = quantization_config(method, cuda)
    if quant is not None:
        kwargs.update(quantization_config=quant, device_map={"": 0} if cuda else None)
    elif cuda:
        import torch

        kwargs["dtype"] = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    try:
        return AutoModelForCausalLM.from_pretrained(model_path, **kwargs)
    except OSError:
        raise not_loadable(model_path) from None


def describe_weights(model: Any) -> str:
    """A short description of how the weights are held, e.g. '4-bit NF4, 1.2M parameters'."""
    count = sum(parameter.numel() for parameter in model.parameters())
    storage = "4-bit NF4" if getattr(model, "is_loaded_in_4bit", False) else str(model.dtype).replace("torch.", "")
    return f"{storage}, {count / 1e6:.1f}M parameters"


def not_loadable(model_path: str) -> UserError:
    if os.environ.get("HF_HUB_OFFLINE") == "1" or not Path(model_path).exists():
        return UserError(
            f"The model '{model_path}' could not be loaded: it is not a model folder on this server and cannot be "
            "downloaded here. Copy the model into a folder on the server and give that folder's path."
        )
    return UserError(f"The model '{model_path}' could not be loaded; check that the folder holds a complete model.")
