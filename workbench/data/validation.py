"""Validating a dataset file: every problem typed, located and explained, plus the counts the pages and CLI show.

``validate`` reads the bytes (``workbench.readers``), recognises the layout (``workbench.formats``), normalises each
record to training rows, and adds the warnings that need the whole file: exact and near-exact duplicates, unfilled
``{{placeholders}}``, per-message weights the trainer cannot honour, too few rows, and, when a tokenizer is given,
rows longer than the max length and chat-template problems (``workbench.tokens``). It never raises on bad content.
"""

import contextlib
import gc
import hashlib
import json
import string
from collections.abc import Iterator
from typing import Any

from workbench.data import formats, readers
from workbench.data.mapping import ColumnMapping, suggest_mapping
from workbench.data.placeholders import PLACEHOLDER
from workbench.data.problems import Problem, problem
from workbench.data.reports import DataReport, sort_problems
from workbench.data.turns import zero_weight_turns
from workbench.words import plural


MIN_ROWS = 10
HASH_CHUNK = 1 << 20
IGNORED = (string.punctuation + string.whitespace).encode()  # what near-exact duplicates may differ in


def validate(
    content: bytes,
    file_name: str = "",
    mapping: ColumnMapping | None = None,
    tokenizer: Any = None,
    max_length: int | None = None,
) -> DataReport:
    """Check a dataset file of any supported container and layout; never raises on bad content.

    ``file_name`` is only a hint for the container (e.g. ``.csv``); ``mapping`` says which field is which for layouts
    not recognised by their field names; with a ``tokenizer`` (one with a chat template) the length and template
    checks run too, against ``max_length`` tokens.
    """
    with _paused_garbage_collector():
        return _validate(content, file_name, mapping, tokenizer, max_length)


@contextlib.contextmanager
def _paused_garbage_collector() -> Iterator[None]:
    """Reading builds millions of small objects and none of them form cycles; pausing the collector saves a third."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _validate(
    content: bytes, file_name: str, mapping: ColumnMapping | None, tokenizer: Any, max_length: int | None
) -> DataReport:
    read = readers.read_records(content, file_name)
    report = DataReport(lines_read=read.total, kind=read.kind)
    report.problems += read.problems
    values = [record.value for record in read.records]
    report.columns = read.columns or formats.field_names(values)
    if read.failed:
        return _finish(report)
    report.mapping = mapping if mapping is not None and mapping.complete else None
    fmt = report.mapping.format if report.mapping else formats.detect_format(values)
    if fmt is None and any(isinstance(value, dict) for value in values):
        return _unknown_format(report)
    report.format = fmt
    del values  # from here each parsed value is dropped as soon as it is normalised
    zero_weights = _normalise_all(report, read.records, fmt or "messages")
    del read  # the parsed values are gone; the normalised rows are what the report keeps
    add_whole_file_warnings(report, zero_weights)
    if tokenizer is not None and report.rows:
        from workbench.data import template_checks

        template_checks.add_token_checks(report, tokenizer, max_length or 1024)
    return _finish(report)


def _unknown_format(report: DataReport) -> DataReport:
    report.suggested_mapping = suggest_mapping(report.columns)
    shown = ", ".join(report.columns[:8]) or "none"
    what = "CSV columns" if report.kind == "csv" else "fields"
    message = (
        f"The {what} ({shown}) do not say which text is the question and which the answer; name them prompt and "
        "completion (or messages, or text), or map them on the Data page."
    )
    report.problems.append(problem("unknown_format", message))
    return _finish(report)


def _normalise_all(report: DataReport, records: list[readers.Record], fmt: str) -> int:
    """Normalise every record into ``report``; returns the assistant turns with weight 0. Each parsed value is let
    go once normalised, so a big file is never held twice."""
    mapping, zero_weights = report.mapping, 0
    for record in records:
        value, record.value = (mapping.apply(record.value) if mapping else record.value), None
        zero_weights += zero_weight_turns(value) if fmt == "messages" else 0
        row, issue = formats.normalise(value, fmt, record.row, record.line)
        if issue is not None:
            report.problems.append(_in_mapped_words(issue, mapping))
            continue
        report.rows.append(row)
        report.sources.append((record.row, record.line))
    return zero_weights


def _in_mapped_words(issue: Problem, mapping: ColumnMapping | None) -> Problem:
    """Name the user's own columns in a problem found after renaming them."""
    if mapping is not None:
        for key, column in mapping.to_dict().items():
            if column:
                issue.message = issue.message.replace(f'"{key}"', f'"{column}"')
    return issue


def add_whole_file_warnings(report: DataReport, zero: int) -> None:
    """Warnings that need every row: duplicates, placeholders, ``zero`` weight-0 turns and too few rows."""
    _mark_duplicates(report)
    _mark_placeholders(report)
    if zero:
        message = (
            f"{plural(zero, 'assistant turn')} with weight 0, but training learns from every assistant answer; "
            "remove those turns (or set their weight to 1) if the model must not learn them."
        )
        report.problems.append(problem("weight_ignored", message))
    if 0 < len(report.rows) < MIN_ROWS:
        noun = "text" if report.format == "text" else "conversation"
        usable = plural(len(report.rows), "usable " + noun)
        message = f"Only {usable}; at least {MIN_ROWS} are advised, 50 or more work better."
        report.problems.append(problem("few_rows", message))


def exact_key(row: dict[str, Any]) -> bytes:
    """A fingerprint of a row: equal for rows with exactly the same turns (hashed piece by piece, so a huge row is
    never copied)."""
    hasher = hashlib.blake2b(digest_size=16)
    if "text" in row:
        _feed(hasher, row["text"])
        return hasher.digest()
    for turn in row["messages"]:
        _feed(hasher, turn["role"] + "\x1f")
        _feed(hasher, turn["content"])
        _feed(hasher, "\x1e")
    if "tools" in row or any(len(turn) > 2 for turn in row["messages"]):
        extras = [turn.get("tool_calls") for turn in row["messages"]] + [row.get("tools")]
        _feed(hasher, json.dumps(extras, sort_keys=True, ensure_ascii=False))
    return hasher.digest()


def near_key(row: dict[str, Any]) -> bytes:
    """A fingerprint that ignores case, whitespace and ASCII punctuation, so near-exact repeats collide."""
    hasher = hashlib.blake2b(digest_size=16)
    texts = [row["text"]] if "text" in row else [turn["content"] for turn in row["messages"]]
    for text in texts:
        _feed(hasher, text, lambda chunk: chunk.lower().encode("utf-8", "surrogatepass").translate(None, IGNORED))
        hasher.update(b"\x1f")
    return hasher.digest()


def _feed(hasher: Any, text: str, encode: Any = None) -> None:
    """Hash ``text`` a megabyte at a time."""
    for start in range(0, len(text), HASH_CHUNK):
        chunk = text[start : start + HASH_CHUNK]
        hasher.update(encode(chunk) if encode else chunk.encode("utf-8", "surrogatepass"))


def _mark_duplicates(report: DataReport) -> None:
    exact_seen: dict[bytes, int] = {}
    near_seen: dict[bytes, int] = {}
    noun = "text" if report.format == "text" else "conversation"
    for index, row in enumerate(report.rows):
        first = exact_seen.setdefault(exact_key(row), index)
        if first != index:
            message = (
                f"The same {noun} already appears on {report.where(first)}; repeats make the model over-learn it, "
                "so remove the copy (Clean on the Data page does it)."
            )
            _row_warning(report, index, "duplicate", message)
            continue
        first = near_seen.setdefault(near_key(row), index)
        if first != index:
            message = (
                f"This {noun} is nearly the same as {report.where(first)} (only case, spaces or punctuation differ); "
                "keep one of them."
            )
            _row_warning(report, index, "near_duplicate", message)


def _row_warning(report: DataReport, index: int, code: str, message: str) -> None:
    row, line = report.sources[index]
    report.problems.append(problem(code, message, row, line))
    if code in ("duplicate", "near_duplicate"):
        report.duplicate_rows.add(index)


def _mark_placeholders(report: DataReport) -> None:
    for index, row in enumerate(report.rows):
        for text in formats.row_texts(row):
            if "{{" in text and (found := PLACEHOLDER.search(text)):
                message = (
                    f"The text contains the unfilled placeholder {found.group(0)}; replace it with the real value, "
                    "or the model learns the braces."
                )
                _row_warning(report, index, "placeholder", message)
                break


def overlapping(train_rows: list[dict[str, Any]], validation_rows: list[dict[str, Any]]) -> list[int]:
    """Indexes of validation rows that also appear, exactly or nearly, among the training rows."""
    keys = {exact_key(row) for row in train_rows} | {near_key(row) for row in train_rows}
    return [index for index, row in enumerate(validation_rows) if exact_key(row) in keys or near_key(row) in keys]


def overlap_problems(train: DataReport, validation: DataReport) -> list[Problem]:
    """Warnings for validation rows that also appear (exactly or nearly) in the training rows."""
    found = []
    for index in overlapping(train.rows, validation.rows):
        record, line = validation.sources[index] if validation.sources else (index + 1, None)
        message = (
            "This validation record also appears in the training data, so the held-out score would look better "
            "than it is; remove it from one of the two sets."
        )
        found.append(problem("overlap", message, record, line))
    return found


def _finish(report: DataReport) -> DataReport:
    if report.kind == "csv":  # a CSV's line numbers are its spreadsheet rows (``tables.read_csv``)
        for item in report.problems:
            item.unit = "Spreadsheet row"
    sort_problems(report)
    return report
