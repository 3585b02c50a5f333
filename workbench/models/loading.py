"""Finding and loading base models and their tokenizers: the built-in demo model, a local folder, or a hub id.

The demo model is built offline on first use and cached under the data folder (see ``workbench.models.demo``); a
file lock makes concurrent first uses build it once.
"""

import fcntl
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench import paths
from workbench.config import DEMO_MODEL
from workbench.errors import UserError


NO_REMOTE_CODE = {"trust_remote_code": False}  # passed to every from_pretrained: a model's own code never runs


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
    """A path or hub id that ``from_pretrained`` can load, or a UserError saying what to do.

    A missing path and a folder without ``config.json`` get the same sentence, so the model field cannot be used
    to find out which folders exist on the server. A folder that asks to run its own code is refused.
    """
    model = model.strip()
    if model == DEMO_MODEL:
        return str(ensure_demo_model(progress))
    path = Path(model).expanduser()
    if (path / "config.json").is_file():
        refuse_remote_code(path)
        return str(path)
    if path.exists() or model.startswith(("/", ".", "~")) or model.count("/") > 1:
        raise UserError(
            f"There is no model folder with a config.json at {model}; give the path of a Hugging Face model folder "
            "on the server."
        )
    return model


def refuse_remote_code(folder: Path) -> None:
    """A UserError for a model folder whose config names its own Python code (``auto_map``): the workbench never
    runs code that comes with a model (``trust_remote_code`` is always off)."""
    for name in ("config.json", "tokenizer_config.json"):
        try:
            values = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(values, dict) and values.get("auto_map"):
            raise UserError(
                f"The model in {folder} needs its own Python code ({name} has an auto_map), which this workbench "
                "never runs; use a model that transformers supports without custom code."
            )


def load_tokenizer(model_path: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_path, **NO_REMOTE_CODE)
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


def flash_attention_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("flash_attn") is not None


def attention_implementation(cuda: bool) -> str:
    """FlashAttention 2 on an NVIDIA GPU where the flash-attn package is installed, else PyTorch's SDPA."""
    return "flash_attention_2" if cuda and flash_attention_installed() else "sdpa"


def load_model(model_path: str, method: str = "lora", cuda: bool = False) -> Any:
    """Load a causal LM for training or chat; 4-bit when the method is QLoRA."""
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {}
    if attention_implementation(cuda) == "flash_attention_2":  # else transformers' own default (SDPA where supported)
        kwargs["attn_implementation"] = "flash_attention_2"
    quant = quantization_config(method, cuda)
    if quant is not None:
        kwargs.update(quantization_config=quant, device_map={"": 0} if cuda else None)
    elif cuda:
        import torch

        kwargs["dtype"] = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    try:
        return AutoModelForCausalLM.from_pretrained(model_path, **kwargs, **NO_REMOTE_CODE)
    except OSError:
        raise not_loadable(model_path) from None


def describe_weights(model: Any) -> str:
    """A short description of how the weights are held, e.g. '4-bit NF4, 1.2M parameters'."""
    count = sum(parameter.numel() for parameter in model.parameters())
    storage = "4-bit NF4" if getattr(model, "is_loaded_in_4bit", False) else str(model.dtype).replace("torch.", "")
    return f"{storage}, {count / 1e6:.1f}M parameters"


def not_loadable(model_path: str) -> UserError:
    """The sentence for a model that ``from_pretrained`` refused: a broken folder, or a hub id not fetched."""
    if (Path(model_path) / "config.json").is_file():
        return UserError(
            f"The model folder {model_path} could not be read (a broken config.json, tokenizer or weights file); "
            "copy the model into the folder again."
        )
    return UserError(
        f"The model '{model_path}' is not a model folder on this server and cannot be downloaded here; copy the "
        "model into a folder on the server and give that folder's path."
    )
