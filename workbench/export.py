"""Packaging a run's result for download: the adapter folder as a zip that ``PeftModel.from_pretrained`` loads."""

import io
import zipfile
from pathlib import Path

from workbench.errors import UserError
from workbench.runs import Run


EXCLUDED = {"training_args.bin"}  # a pickle: never hand pickles around


def adapter_zip_bytes(run: Run) -> bytes:
    """The adapter (safetensors weights, adapter config, tokenizer and chat template) as zip bytes."""
    if not run.has_adapter:
        raise UserError(f"The run {run.run_id} has no adapter to download yet; wait until it finishes.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(run.adapter_dir.rglob("*")):
            if file.is_file() and file.name not in EXCLUDED:
                archive.write(file, Path(run.run_id) / file.relative_to(run.adapter_dir))
    return buffer.getvalue()


def adapter_zip_name(run: Run) -> str:
    return f"{run.run_id}-adapter.zip"
