"""Which process of a data-parallel run this one is (``torchrun`` sets RANK and WORLD_SIZE), and how the processes
share the work. Only the main process, rank 0, writes the run directory (status, metrics, record, scores, the
adapter); the others only train beside it.

LoRA, QLoRA and layer freezing run data parallel (DDP: every GPU holds the whole model). Full fine-tuning on several
GPUs shards the weights, gradients and optimizer state over them (FSDP2, fully sharded), so a model that does not fit
one GPU for training can train on several."""

import os


def rank() -> int:
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def world_size() -> int:
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def is_main() -> bool:
    return rank() == 0


def strategy(method: str, gpus: int) -> str:
    """'single' (one process), 'ddp' (data parallel) or 'fsdp' (fully sharded, for full fine-tuning)."""
    if gpus <= 1:
        return "single"
    return "fsdp" if method == "full" else "ddp"


def fsdp_arguments() -> dict:
    """The trainer's FSDP2 settings: whole decoder layers sharded (the model's own ``_no_split_modules``), resharded
    after each forward, saved as one full state dict by rank 0 (a normal safetensors model)."""
    settings = {"version": 2, "auto_wrap_policy": "TRANSFORMER_BASED_WRAP", "reshard_after_forward": True}
    return {"fsdp": "full_shard auto_wrap", "fsdp_config": {**settings, "state_dict_type": "FULL_STATE_DICT"}}
