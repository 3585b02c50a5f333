"""Importing an adapter made elsewhere (a zip, like the one the workbench downloads) as a finished run, so the
Playground and the API can chat with it.

Only ``adapter_config.json``, safetensors weights and tokenizer files are taken. Pickles, absolute paths or ``..``
in member names, symbolic links, and archives that are too large or compressed suspiciously well are refused, each
with its own sentence, before anything is written. The adapter's weight shapes are checked against the chosen base
model's layers (built on the ``meta`` device: no weights are read) before the run is created.
"""

import io
import json
import os
import shutil
import stat
import zipfile
from pathlib import PurePosixPath
from typing import Any

from workbench.config import DEMO_MODEL, RunConfig
from workbench.errors import UserError, disk_space
from workbench.models import loading
from workbench.models.rendering import RenderingError, rendering_for, saved_rendering
from workbench.runs import directory
from workbench.runs.directory import Run
from workbench.team import access, audit
from workbench.team.identity import Actor


MAX_ADAPTER_MB = float(os.environ.get("WORKBENCH_MAX_ADAPTER_MB", "2048"))
MAX_RATIO = 50  # uncompressed / compressed; safetensors and JSON compress far less than this
MAX_MEMBERS = 64
ALLOWED = {
    "adapter_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
    "README.md",
    "rendering.json",  # the workbench's own prompt contract, in its downloads
}
PICKLES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".npy", ".joblib")


def import_adapter(data: bytes, base_model: str, name: str, actor: Actor | None = None) -> Run:
    """A finished run of ``actor``'s holding the adapter in the zip ``data``, on top of ``base_model``; a UserError
    otherwise."""
    actor = access.acting(actor)
    if len(data) > MAX_ADAPTER_MB * 1024**2:
        raise UserError(f"The zip is larger than {MAX_ADAPTER_MB:.0f} MB; an adapter is usually far smaller.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UserError("This file is not a zip archive; upload the adapter's .zip file.") from None
    with archive:
        members = checked_members(archive)
        files = {PurePosixPath(info.filename).name: archive.read(info) for info in members}
    config = _adapter_config(files)
    if base_model.strip() != DEMO_MODEL:
        access.check_model_source(base_model)
    base_path = loading.resolve_model(base_model)
    check_fits(files["adapter_model.safetensors"], base_path, config)
    run = _save_run(files, base_model, base_path, name, actor.name)
    audit.record(actor.name, "import", run.run_id, f"adapter on {base_model}")
    return run


def checked_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's files, once every member has passed the checks (directories are skipped)."""
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > MAX_MEMBERS:
        raise UserError(f"The zip holds {len(infos)} files; an adapter has a handful. Zip only the adapter folder.")
    total = sum(info.file_size for info in infos)
    if total > MAX_ADAPTER_MB * 1024**2:
        raise UserError(f"The zip unpacks to more than {MAX_ADAPTER_MB:.0f} MB; an adapter is usually far smaller.")
    for info in infos:
        _check_member(info)
    names = [PurePosixPath(info.filename).name for info in infos]
    for needed in ("adapter_config.json", "adapter_model.safetensors"):
        if needed not in names:
            raise UserError(f"The zip has no {needed}; zip the folder that peft's save_pretrained wrote.")
    if len(set(names)) != len(names):
        raise UserError("The zip holds two files of the same name in different folders; zip one adapter only.")
    return infos


def _check_member(info: zipfile.ZipInfo) -> None:
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and path.parts[0].endswith(":")):
        raise UserError(f"The zip member '{info.filename}' points outside the adapter folder; it was refused.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UserError(f"The zip member '{info.filename}' is a symbolic link; zip the files themselves.")
    if path.suffix in PICKLES:
        raise UserError(
            f"The zip holds '{path.name}', a pickle file that could run code when loaded; leave it out "
            "(adapters need only safetensors weights)."
        )
    if path.name not in ALLOWED and path.suffix != ".safetensors":
        raise UserError(f"The zip holds '{path.name}', which is not part of an adapter; leave it out.")
    if path.suffix == ".safetensors" and path.name != "adapter_model.safetensors":
        raise UserError(f"The zip holds '{path.name}'; an adapter's weights are in adapter_model.safetensors.")
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        raise UserError(f"The zip member '{info.filename}' unpacks to far more than it stores; it was refused.")


def _adapter_config(files: dict[str, bytes]) -> dict[str, Any]:
    try:
        config = json.loads(files["adapter_config.json"])
    except ValueError:
        raise UserError("adapter_config.json in the zip is not valid JSON; export the adapter again.") from None
    if not isinstance(config, dict) or config.get("peft_type") != "LORA":
        raise UserError("Only LoRA adapters can be imported (adapter_config.json says another kind).")
    return config


def check_fits(weights: bytes, base_path: str, config: dict[str, Any]) -> None:
    """A UserError unless every LoRA matrix matches a layer of the base model (shapes from the meta device)."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        tensors = load(weights)
    except (SafetensorError, ValueError):
        raise UserError("adapter_model.safetensors in the zip cannot be read; export the adapter again.") from None
    layers = _base_layers(base_path)
    for key, tensor in tensors.items():
        if ".lora_A." not in key:
            continue
        module = key.split(".lora_A.")[0].removeprefix("base_model.model.")
        layer = layers.get(module)
        if layer is None or tensor.shape[1] != layer:
            raise UserError(
                f"This adapter does not fit {config.get('base_model_name_or_path') or 'its base'} on the chosen "
                f"model: its layer {module} has no match there. Pick the base model it was trained on."
            )


def _base_layers(base_path: str) -> dict[str, int]:
    """Each linear layer of the base model and its input size, from its config alone."""
    import torch
    from accelerate import init_empty_weights
    from transformers import AutoConfig, AutoModelForCausalLM

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base_path, **loading.NO_REMOTE_CODE))
    return {name: module.in_features for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}


def _save_run(files: dict[str, bytes], base_model: str, base_path: str, name: str, owner: str) -> Run:
    """The run holding the files (a run that cannot be completed is removed again)."""
    run = directory.create_run(RunConfig(model=base_model, run_name=name or "imported-adapter"), owner=owner)
    try:
        with disk_space("importing the adapter"):
            run.adapter_dir.mkdir()
            for file_name, content in files.items():
                (run.adapter_dir / file_name).write_bytes(content)
            tokenizer = _tokenizer(run, files, base_path)
            if "rendering.json" in files:
                saved_rendering(run.adapter_dir, tokenizer)  # readable, and fits this tokenizer
            else:
                rendering_for(tokenizer).save(run.adapter_dir)
        directory.update_status(run.path, state="succeeded", message="Imported adapter.")
    except RenderingError as error:
        shutil.rmtree(run.path, ignore_errors=True)
        raise UserError(str(error)) from None
    except BaseException:
        shutil.rmtree(run.path, ignore_errors=True)
        raise
    return run


def _tokenizer(run: Run, files: dict[str, bytes], base_path: str) -> Any:
    """The adapter's own tokenizer, else the base's; without a chat template of its own it takes the base's, and
    what was taken is saved beside the adapter."""
    if "tokenizer_config.json" not in files:
        tokenizer = loading.load_tokenizer(base_path)
    else:
        tokenizer = loading.load_tokenizer(str(run.adapter_dir))
        if tokenizer.chat_template:
            return tokenizer
        tokenizer.chat_template = loading.load_tokenizer(base_path).chat_template
    tokenizer.save_pretrained(run.adapter_dir)
    return tokenizer
