"""Checking a file for the Data page away from the web server, and saving it, through ``workbench.limits``: each call
runs in a child process with a memory and a time limit and sends back only what the page draws (``FileCheck``), never
the whole report with every row, so two large uploads do not fill the server's memory.

The file is read from where the server keeps it (an upload under its content hash, or a file of the server folder),
so no bytes travel to the child through a pipe.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import limits
from workbench.config import DEMO_MODEL
from workbench.data import cleaning, library, page_lines, placeholders, reports, tokens, uploads, validation
from workbench.data.mapping import ColumnMapping
from workbench.team.identity import Actor


PREVIEW_ROWS = 5  # records per preview page
MAX_PLACEHOLDERS = 12  # the fill-in form asks for at most this many
LISTED_PROBLEMS = 50


@dataclass(frozen=True)
class FileCheck:
    """What the Data page shows of one checked file."""

    ok: bool
    usable: bool
    needs_mapping: bool
    summary: str
    loaded_message: str
    layout: str  # 'Alpaca instructions in a JSON file'; '' when no layout was recognised
    columns: list[str]
    suggested_mapping: dict[str, str] | None
    mapped: bool
    problem_lines: list[str]
    problems_csv: str
    metrics: list[tuple[str, str, str]]
    roles_caption: str
    template_warnings: list[str]
    template: str  # which chat template trains these rows, as a sentence
    token_lengths: list[int] | None  # None without a tokenizer
    token_caption: str
    rows: int
    total: int
    duplicates: int
    too_long: int
    placeholders: dict[str, int]  # each unfilled {{name}} and how many records hold it


@dataclass(frozen=True)
class PreviewPage:
    """One page of the preview: the records shown, where each is in the file, and how many records match."""

    rows: list[tuple[str, dict[str, Any]]]
    matches: int
    pages: int


def check(path: Path, name: str, mapping: dict | None, model: str, max_length: int) -> FileCheck:
    """The check of a stored file, made in a bounded child process."""
    return limits.run_bounded(_check, path, name, mapping, model, max_length, what="checking the file")


@dataclass(frozen=True)
class Cleaning:
    """What the user chose to leave out and fill in when saving a cleaned version, and who saves it."""

    drop_duplicates: bool
    drop_too_long: bool
    actor: Actor
    fills: dict[str, str] | None = None


def save_cleaned(
    path: Path, name: str, mapping: dict | None, model: str, max_length: int, how: Cleaning
) -> library.Version:
    """Check the file again and save its usable rows, leaving out and filling in what ``how`` says."""
    return limits.run_bounded(_save_cleaned, path, name, mapping, model, max_length, how, what="saving")


def add_original(path: Path, name: str, mapping: dict | None, actor: Actor) -> library.Version:
    """The file as version 1 of a library dataset (the same file again returns that version)."""
    return limits.run_bounded(_add_original, path, name, mapping, actor, what="saving")


def _report(path: Path, name: str, mapping: dict | None, model: str, max_length: int) -> reports.DataReport:
    uploads.check_size(path.stat().st_size)
    tokenizer = tokens.tokenizer_for(model) if model else None
    report = validation.validate(path.read_bytes(), name, ColumnMapping.from_dict(mapping), tokenizer, max_length)
    report.counted_with = ("the built-in demo model" if model == DEMO_MODEL else model) if tokenizer else ""
    return report


def _check(path: Path, name: str, mapping: dict | None, model: str, max_length: int) -> FileCheck:
    return summarise(_report(path, name, mapping, model, max_length), name, max_length)


def _save_cleaned(
    path: Path, name: str, mapping: dict | None, model: str, max_length: int, how: Cleaning
) -> library.Version:
    report = _report(path, name, mapping, model, max_length)
    drops = (how.drop_duplicates, how.drop_too_long)
    return cleaning.save_cleaned(name, path.read_bytes(), report, *drops, actor=how.actor, fills=how.fills)


def _add_original(path: Path, name: str, mapping: dict | None, actor: Actor) -> library.Version:
    report = _report(path, name, mapping, "", 0)
    return library.create_dataset(name, path.read_bytes(), report, actor)


def summarise(report: reports.DataReport, name: str, max_length: int) -> FileCheck:
    """What the page draws of ``report``: sentences, counts, the token lengths and the first rows."""
    has_rows = bool(report.rows)
    return FileCheck(
        ok=report.ok,
        usable=report.usable,
        needs_mapping=report.needs_mapping,
        summary=report.summary(),
        loaded_message=report.loaded_message(name) if report.ok else "",
        layout=reports.describe_format(report) if report.format else "",
        columns=report.columns,
        suggested_mapping=report.suggested_mapping.to_dict() if report.suggested_mapping else None,
        mapped=report.mapping is not None,
        problem_lines=page_lines.problem_lines(report, LISTED_PROBLEMS),
        problems_csv=reports.problems_csv(report) if report.problems else "",
        metrics=report.metrics(max_length) if has_rows else [],
        roles_caption=report.roles_caption() if has_rows else "",
        template_warnings=report.template_warnings(),
        template=report.template,
        token_lengths=report.tokens.counted() if report.tokens is not None else None,
        token_caption=reports.token_caption(report) if report.tokens is not None else "",
        rows=len(report.rows),
        total=report.total,
        duplicates=report.duplicates,
        too_long=report.too_long,
        placeholders=dict(placeholders.found_in(report.rows).most_common(MAX_PLACEHOLDERS)),
    )


def preview(path: Path, name: str, mapping: dict | None, query: str, page: int) -> PreviewPage:
    """Page ``page`` (from 1) of the usable records whose text holds ``query`` (any case), read in a child process."""
    return limits.run_bounded(_preview, path, name, mapping, query, page, what="reading the preview")


def _preview(path: Path, name: str, mapping: dict | None, query: str, page: int) -> PreviewPage:
    report = _report(path, name, mapping, "", 0)
    wanted = query.strip().lower()
    found = [index for index, row in enumerate(report.rows) if not wanted or wanted in _searchable(row)]
    pages = max(1, -(-len(found) // PREVIEW_ROWS))
    start = (min(max(page, 1), pages) - 1) * PREVIEW_ROWS
    shown = [(report.where(index), report.rows[index]) for index in found[start : start + PREVIEW_ROWS]]
    return PreviewPage(shown, len(found), pages)


def _searchable(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False).lower()
