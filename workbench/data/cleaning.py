"""Making a new dataset version from a checked file: cleaned (rows with errors, duplicates or too-long rows left
out) or given a validation split, each with a note that says how it was made. The original stays as it was."""

from typing import Any

from workbench import schedule
from workbench.data import placeholders
from workbench.data.library import Version, create_dataset, save_version
from workbench.errors import UserError
from workbench.team.identity import Actor
from workbench.words import plural


def save_cleaned(
    file_name: str,
    content: bytes,
    report: Any,
    drop_duplicates: bool = True,
    drop_too_long: bool = False,
    actor: Actor | None = None,
    fills: dict[str, str] | None = None,
) -> Version:
    """Keep the original as version 1 and, when cleaning changes anything (records left out, ``fills`` for its
    ``{{placeholders}}``), save the cleaned rows as a new version; the same result twice is that one version."""
    original = create_dataset(file_name, content, report, actor)
    rows = clean_rows(report, drop_duplicates, drop_too_long)
    filled = placeholders.fill(rows, fills or {})
    if report.ok and len(rows) == len(report.rows) and filled == rows:
        return original
    note = " ".join(part for part in (cleaning_note(report, len(rows)), placeholders.fill_note(fills or {})) if part)
    return save_version(original, filled, note, actor=actor)


def clean_rows(report: Any, drop_duplicates: bool = True, drop_too_long: bool = False) -> list[dict[str, Any]]:
    """The usable rows of a report (rows with errors are never kept), without duplicates or too-long rows."""
    dropped = (report.duplicate_rows if drop_duplicates else set()) | (
        report.too_long_rows if drop_too_long else set()
    )
    return [row for index, row in enumerate(report.rows) if index not in dropped]


def cleaning_note(report: Any, kept: int) -> str:
    """A sentence saying what cleaning left out; none when it left nothing out."""
    if kept == report.total:
        return ""
    parts = [plural(report.total - len(report.rows), "record") + " with errors"]
    if len(report.rows) - kept:
        parts.append(plural(len(report.rows) - kept, "duplicate or too-long record"))
    return f"Cleaned: kept {kept:,} of {plural(report.total, 'record')}, left out " + " and ".join(parts) + "."


def split_for_validation(
    rows: list[dict[str, Any]], fraction: float, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A seeded random split into (training, validation) rows, by the trainer's own rule (``schedule.split_rows``)."""
    if not 0 < fraction < 1 or len(rows) < 2:
        raise UserError("Choose a validation share between 1% and 50%, and have at least two records to split.")
    return schedule.split_rows(rows, fraction, seed)


def split_note(base: Version, validation_rows: int, split: dict[str, Any], overlap: int = 0) -> str:
    """A sentence saying how a version's validation set was made (and whether it repeats training records)."""
    if "file" in split:
        note = f"v{base.version} with {plural(validation_rows, 'validation record')} from the file {split['file']}."
    else:
        share = f"{split['fraction']:.0%}"
        note = (
            f"v{base.version} split at random: {plural(validation_rows, 'record')} ({share}, seed {split['seed']}) "
            "for validation."
        )
    if overlap:
        note += (
            f" Warning: {plural(overlap, 'validation record')} also {'appears' if overlap == 1 else 'appear'} in the "
            "training records, which makes the held-out score look better than it is; drop duplicates first."
        )
    return note
