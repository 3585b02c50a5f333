"""Where training data comes from: a dataset reference ('demo', a library version or a file) resolved to its file,
its validated training rows, its held-out rows, and the choices the Train page offers.

``load_rows`` gives the trainer normalised rows: ``{"messages": [{"role", "content"}, ...]}`` for every chat
layout, ``{"text": ...}`` for plain-text data.
"""

from pathlib import Path
from typing import Any

from workbench.config import DEMO_DATASET, RunConfig
from workbench.data import library, server_folder, tokens, uploads
from workbench.data.mapping import ColumnMapping
from workbench.data.reports import DataReport, failed_report
from workbench.data.validation import validate
from workbench.errors import UserError
from workbench.team import access
from workbench.team.identity import Actor


def read_dataset(
    path: Path, tokenizer: Any = None, max_length: int | None = None, mapping: ColumnMapping | None = None
) -> DataReport:
    """Validate a dataset file on disk, with ``mapping`` or else the column mapping saved for it in the library."""
    version = library.version_for_path(path)
    if mapping is None and version is not None:
        mapping = ColumnMapping.from_dict(version.mapping)
    return validate(path.read_bytes(), path.name, mapping, tokenizer, max_length)


def validate_file(
    path: Path, model: str | None = "demo", max_length: int = 1024, mapping: ColumnMapping | None = None
) -> DataReport:
    """Validate a file with token statistics under ``model``'s tokenizer (None skips them) and an optional column
    mapping; the CLI's code path.

    Never raises for a missing, oversized or unreadable file or an unavailable model: the report then holds one
    file-level problem (codes ``no_file``, ``too_large``, ``model_unavailable``).
    """
    if not path.is_file():
        return failed_report("no_file", f"There is no file at {path}; check the path.")
    try:
        uploads.check_size(path.stat().st_size)
    except UserError as error:
        return failed_report("too_large", str(error))
    tokenizer = None
    if model:
        try:
            tokenizer = tokens.tokenizer_for(model)
        except UserError as error:
            return failed_report("model_unavailable", str(error))
    return read_dataset(path, tokenizer, max_length, mapping)


def load_rows(dataset: str) -> list[dict[str, Any]]:
    """The usable rows of a dataset ('demo' or a file path); raises UserError when any record has an error."""
    path = resolve_dataset(dataset)
    report = read_dataset(path)
    if not report.ok:
        first = report.errors[0] if report.errors else report.problems[0] if report.problems else None
        detail = f" First problem: {first}" if first else ""
        detail += "" if detail.endswith(".") or not detail else "."
        raise UserError(
            f"The dataset {path.name} cannot be used for training.{detail} Check it on the Data page and save a "
            "cleaned version."
        )
    return report.rows


def resolve_dataset(dataset: str, heldout: bool = False) -> Path:
    """The file behind a dataset reference: 'demo' (its train or held-out split) or a path."""
    if dataset.strip() == DEMO_DATASET:
        from workbench.models import demo_task

        return demo_task.DEMO_HELDOUT_FILE if heldout else demo_task.DEMO_TRAIN_FILE
    path = Path(dataset).expanduser()
    if not path.is_file():
        raise UserError(f"There is no dataset file at {dataset}; upload it on the Data page.")
    return path


def dataset_label(dataset: str) -> str:
    """A dataset reference as people name it: "the built-in demo dataset", "llamafactory_identity v2", or a
    file's name; never a path inside the data folder."""
    if not dataset.strip():
        return "none"
    if dataset.strip() == DEMO_DATASET:
        return "the built-in demo dataset"
    version = library.version_for_path(Path(dataset).expanduser())
    return version.label if version is not None else Path(dataset).name


def eval_rows_for(dataset: str, eval_dataset: str) -> list[dict[str, Any]]:
    """Held-out rows: the eval file when given, the demo's held-out split for the demo, a library version's
    validation split when it has one, else none."""
    if eval_dataset.strip():
        return load_rows(eval_dataset)
    if dataset.strip() == DEMO_DATASET:
        return load_rows(str(resolve_dataset(DEMO_DATASET, heldout=True)))
    version = library.version_for_path(Path(dataset).expanduser())
    if version is not None and version.validation_path is not None:
        return load_rows(str(version.validation_path))
    return []


def training_choices(extra: str | None = None, actor: Actor | None = None) -> dict[str, str]:
    """What the Train page offers as training data, label -> dataset reference: the demo, then every version in
    the library that ``actor`` may see (newest first), then ``extra`` (a file picked elsewhere) when it is not one
    of them."""
    demo_rows = resolve_dataset(DEMO_DATASET).read_text(encoding="utf-8").count("\n")
    choices = {f"Built-in demo dataset ({demo_rows} conversations)": DEMO_DATASET}
    for versions in library.visible_datasets(access.acting(actor)):
        for version in reversed(versions):
            held_out = f" + {version.validation_rows} validation" if version.validation_rows else ""
            choices[f"{version.label} ({version.rows} records{held_out})"] = str(version.path)
    if extra and extra not in choices.values():
        choices[f"File: {Path(extra).name}"] = extra
    return choices


def row_count(dataset: str) -> int:
    """How many usable training records a dataset has (from the library's record when it is a version)."""
    version = library.version_for_path(resolve_dataset(dataset))
    if version is not None and dataset.strip() != DEMO_DATASET:
        return version.rows
    return len(read_dataset(resolve_dataset(dataset)).rows)


def check_browser_access(config: RunConfig) -> None:
    """From the browser, training and evaluation data come only from the demo, the dataset library or the server
    folder (symbolic links resolved); any other file the server can read stays a command-line feature, so no page
    ever shows its content or field names. The sentence is the same whether or not the file exists."""
    allowed = [root for root in (library.library_dir().resolve(), server_folder.root()) if root is not None]
    for reference in (config.dataset, config.eval_dataset):
        if reference.strip() in ("", DEMO_DATASET):
            continue
        path = Path(reference).expanduser().resolve()
        if not any(path.is_relative_to(root) for root in allowed):
            raise UserError(
                f"From the browser, training data comes from the dataset library or the server folder, and "
                f"{reference} is in neither; check and save the file on the Data page first (any path works from the "
                "command line on the server)."
            )
