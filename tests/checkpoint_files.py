"""Checkpoints made in the tests: a sealed step-0 checkpoint of a copied trained run, answering as its base does."""

import shutil
from pathlib import Path

from safetensors.torch import load_file, save_file

from workbench.runs import checkpoints


def untrained_checkpoint(run_dir: Path, run_id: str) -> int:
    """Add a sealed checkpoint at step 0 to a copied trained run: the adapter as it is before training (LoRA's B
    matrices start at zero), so it answers as the untrained base does. Built from a real checkpoint of the run;
    returns its step."""
    source = checkpoints.saved_models(run_dir)[0]
    target = source.with_name("checkpoint-0")
    shutil.copytree(source, target)
    weights = load_file(target / "adapter_model.safetensors")
    zeroed = {name: tensor.zero_() if "lora_B" in name else tensor for name, tensor in weights.items()}
    save_file(zeroed, target / "adapter_model.safetensors")
    checkpoints.seal(target, run_id)
    return 0
