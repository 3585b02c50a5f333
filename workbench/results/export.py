"""Packaging a run's result for download: the adapter folder as a zip that ``PeftModel.from_pretrained`` loads,
and a merged model folder (see ``workbench.results.merge``) as a zip that ``AutoModelForCausalLM`` loads."""

import io
import zipfile
from pathlib import Path

from workbench.errors import UserError
from workbench.jobs import control
from workbench.results import model_card
from workbench.runs.directory import Run
from workbench.team import access, audit
from workbench.team.identity import Actor


EXCLUDED = {"training_args.bin"}  # a pickle: never hand pickles around


def adapter_zip_bytes(run: Run, actor: Actor | None = None) -> bytes:
    """The adapter (safetensors weights, adapter config, tokenizer and chat template) as zip bytes, for someone who
    may see the run (the download itself is recorded by ``record_download``, when it happens)."""
    control.check_see_run(actor, run.run_id)
    if not run.has_output:
        raise UserError(f"The run {run.run_id} has no adapter to download yet; wait until it finishes.")
    return folder_zip_bytes(run.adapter_dir, run.run_id, {model_card.CARD_FILE: model_card.model_card(run)})


def adapter_zip_name(run: Run) -> str:
    return f"{run.run_id}-adapter.zip"


def record_download(run: Run, actor: Actor | None, what: str = "adapter") -> None:
    """Write a download of the run's ``what`` into the audit log."""
    audit.record(access.acting(actor).name, "download", run.run_id, what)


def merged_zip_bytes(folder: Path, run: Run, actor: Actor | None = None) -> bytes:
    """A merged model folder as zip bytes, its files under ``RUN_ID-merged/`` (built when the download happens)."""
    control.check_see_run(actor, run.run_id)
    if not (folder / "config.json").is_file():
        raise UserError(f"The run {run.run_id} has no merged model yet; merge it first.")
    zipped = folder_zip_bytes(folder, f"{run.run_id}-merged")
    record_download(run, actor, "merged model")
    return zipped


def merged_zip_name(run: Run) -> str:
    return f"{run.run_id}-merged.zip"


def folder_zip_bytes(folder: Path, root: str, extra: dict[str, str] | None = None) -> bytes:
    """Every file of ``folder`` (except pickles) in a zip, under a folder called ``root``, plus ``extra`` files
    (name: text) written beside them.

    Weights are stored, not deflated: safetensors barely compress, and storing keeps large zips fast to build."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file() and file.name not in EXCLUDED and file.name not in (extra or {}):
                compression = zipfile.ZIP_STORED if file.suffix == ".safetensors" else zipfile.ZIP_DEFLATED
                archive.write(file, Path(root) / file.relative_to(folder), compress_type=compression)
        for name, text in (extra or {}).items():
            archive.writestr(str(Path(root) / name), text)
    return buffer.getvalue()
