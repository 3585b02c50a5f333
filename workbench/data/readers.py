"""Reading a dataset file's bytes into numbered records: JSONL, JSON (an array or one object), CSV/TSV and Parquet.

The container is recognised from the content first and the file name's extension second (the name is only a hint,
never trusted). JSONL is split on ``\\n`` only, so every record keeps the file's real line number; ``str.splitlines``
would also split on characters such as U+2028 that JSON strings may contain. Nothing here raises on bad input: every
problem comes back as a ``Problem``.
"""

import json
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from workbench.data.formats import HINTS
from workbench.data.problems import Problem, ProblemList, problem
from workbench.data.records import MAX_RECORDS, ReadResult, Record, too_many_records
from workbench.data.tables import looks_like_csv, read_csv, read_parquet


BOM = b"\xef\xbb\xbf"
# Magic numbers of common files people upload by mistake, and what to say about them.
MAGIC = {
    b"PK\x03\x04": "a ZIP archive (or an Excel or Word file); export the data as CSV or JSONL instead",
    b"\x1f\x8b": "compressed with gzip; unpack it first",
    b"%PDF": "a PDF document; export the data as CSV or JSONL instead",
    b"\x89PNG": "a PNG image, not a dataset",
    b"\xff\xd8\xff": "a JPEG image, not a dataset",
    b"SQLite format 3": "a SQLite database; export a table as CSV instead",
}
# Fields that belong to a record's own layout, so {"instruction": [...]} is a record, not a wrapper around records.
LAYOUT_FIELDS = frozenset(name for names in HINTS.values() for name in names) | {"system", "input", "tools"}
NON_SPACE = re.compile(r"\S")
DECODER = json.JSONDecoder()
SURROGATE_TEXT = re.compile("[\ud800-\udfff]")
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # JSON escapes that can decode to half of a character pair
BROKEN_CHARACTER = (
    "This record holds a broken character (a lone \\uD8xx-\\uDFxx escape, half of a pair) that no tokenizer can "
    "read; remove it, or export the file again from the original app."
)


def read_records(content: bytes, file_name: str = "") -> ReadResult:
    """Read a dataset file's bytes; never raises on bad content."""
    ext = PurePath(file_name).suffix.lower()
    if content[:4] == b"PAR1" or ext == ".parquet":
        return read_parquet(content)
    binary = binary_problem(content)
    if binary is not None:
        return ReadResult(problems=[binary])
    text, bad = decode(content)
    if bad is not None:
        return ReadResult(problems=[bad])
    if not text.strip():
        return ReadResult(problems=[problem("empty_file", "The file is empty; it needs one record per line.")])
    if ext in (".csv", ".tsv"):
        return read_csv(text, "\t" if ext == ".tsv" else None)
    if text.lstrip()[:1] in ("{", "["):
        return read_json_or_jsonl(text, ext)
    if ext not in (".json", ".jsonl", ".ndjson") and looks_like_csv(text):
        return read_csv(text, None)
    return read_jsonl(text)


def binary_problem(content: bytes) -> Problem | None:
    """A problem when the bytes are clearly not a text file."""
    for magic, what in MAGIC.items():
        if content.startswith(magic):
            return problem("binary_file", f"This is {what}.")
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return problem("not_utf8", "The file is saved as UTF-16; save it as UTF-8 and upload it again.")
    head = content[:8192]
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13))
    if b"\x00" in head or controls > len(head) // 20:
        return problem("binary_file", "This is a binary file, not text; upload JSONL, JSON, CSV or Parquet.")
    return None


def decode(content: bytes) -> tuple[str, Problem | None]:
    """The text of UTF-8 bytes (a byte order mark is fine), or a problem naming the line of the first bad byte."""
    content = content.removeprefix(BOM)
    try:
        return content.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        message = (
            f"The file is not UTF-8 text (the first unreadable character is on line {line}); "
            "save it as UTF-8 and upload it again."
        )
        return "", problem("not_utf8", message)


def read_json_or_jsonl(text: str, ext: str) -> ReadResult:
    """JSONL when the first line is a JSON value of its own, otherwise one JSON document."""
    first = text.lstrip().split("\n", 1)[0]
    if _parses(first) and not (first.strip() == text.strip() and _is_document(json.loads(first))):
        return read_jsonl(text)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        if ext in (".jsonl", ".ndjson") or (text.lstrip().startswith("{") and ext != ".json"):
            return read_jsonl(text)
        return ReadResult("json", problems=[problem("not_json", _broken_json_message(error))])
    return records_from_json(value, SURROGATE_ESCAPE.search(text) is not None)


def _broken_json_message(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return (
            f"The file is not valid JSON: {error.msg.lower()} on line {error.lineno}, column {error.colno}; "
            "fix that spot (often a missing comma or quote) and upload it again."
        )
    return "The file is not valid JSON (it is nested too deeply or holds a number too long to read); fix it."


def has_lone_surrogate(value: Any) -> bool:
    """True when any text inside a parsed JSON value holds half of a UTF-16 surrogate pair."""
    if isinstance(value, str):
        return SURROGATE_TEXT.search(value) is not None
    if isinstance(value, dict):
        return any(has_lone_surrogate(key) or has_lone_surrogate(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(item) for item in value)
    return False


def _is_document(value: Any) -> bool:
    """True for a one-line file that is a whole JSON document: an array, or {"data": [...]} around the records."""
    return isinstance(value, list) or _wrapped_records(value) is not None


def _wrapped_records(value: Any) -> list[Any] | None:
    """The records of {"data": [{...}, ...]} (any single key except a layout's own field), else None."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    key, inner = next(iter(value.items()))
    if key in LAYOUT_FIELDS or not isinstance(inner, list) or not inner:
        return None
    return inner if all(isinstance(item, dict) for item in inner) else None


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def records_from_json(value: Any, check_characters: bool = False) -> ReadResult:
    """Records of a whole JSON document: the items of an array, the list inside {"data": [...]}, or one object."""
    value = _wrapped_records(value) or value
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_RECORDS:
        return ReadResult("json", problems=[too_many_records("JSON file")])
    result = ReadResult("json", [Record(number, None, item) for number, item in enumerate(items, start=1)])
    if check_characters:
        broken = {record.row for record in result.records if has_lone_surrogate(record.value)}
        result.problems += [problem("not_utf8", BROKEN_CHARACTER, row) for row in sorted(broken)]
        result.records = [record for record in result.records if record.row not in broken]
    if not items:
        result.problems.append(problem("no_records", "The file holds an empty JSON array; it needs records."))
    return result


def read_jsonl(text: str) -> ReadResult:
    """One JSON value per line; blank lines are skipped, every other line is a record with its real line number.
    Each value is decoded in place (no line is copied out), and a file of more than ``MAX_RECORDS`` records is
    refused before any is decoded."""
    if _records_over_limit(text):
        return ReadResult("jsonl", problems=[too_many_records("JSONL file")])
    result = ReadResult("jsonl")
    row = 0
    for number, (start, end) in enumerate(_line_spans(text), start=1):
        first = NON_SPACE.search(text, start, end)
        if first is None:
            continue
        row += 1
        value, issue = _decode_line(text, first.start(), end, start)
        if issue is not None:
            result.problems.append(problem("not_json", issue, row, number))
        elif (
            text.find("\\u", start, end) != -1
            and SURROGATE_ESCAPE.search(text, start, end)
            and has_lone_surrogate(value)
        ):
            result.problems.append(problem("not_utf8", BROKEN_CHARACTER, row, number))
        else:
            result.records.append(Record(row, number, value))
    if not result.records and result.problems:
        message = (
            "The file is not JSON Lines: none of its lines is a JSON record; upload JSONL (one JSON object per "
            "line), JSON, CSV or Parquet."
        )
        result.problems = ProblemList([problem("not_json", message)])
    result.total = row
    return result


def _decode_line(text: str, start: int, end: int, line_start: int) -> tuple[Any, str | None]:
    """The JSON value of ``text[start:end]`` (one line), or the sentence saying why there is none."""
    try:
        value, stop = DECODER.raw_decode(text, start)
    except json.JSONDecodeError as error:
        character = error.pos - line_start + 1
        if error.pos >= end:  # it ran into the next line: say what is wrong with this line on its own
            try:
                DECODER.decode(text[start:end])
            except json.JSONDecodeError as alone:
                error, character = alone, alone.pos + start - line_start + 1
        return None, f"This line is not valid JSON ({_where(error, character)})."
    except (ValueError, RecursionError):
        return None, "This line is not readable JSON (nested too deeply or a number too long)."
    if stop > end or NON_SPACE.search(text, stop, end):
        return None, f"This line is not valid JSON (extra data at character {min(stop, end) - line_start + 1})."
    return value, None


def _records_over_limit(text: str) -> bool:
    if text.count("\n") < MAX_RECORDS:
        return False
    records = 0
    for start, end in _line_spans(text):
        records += NON_SPACE.search(text, start, end) is not None
        if records > MAX_RECORDS:
            return True
    return False


def _line_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line of ``text``, split on ``\\n`` only."""
    start = 0
    while (end := text.find("\n", start)) != -1:
        yield start, end
        start = end + 1
    yield start, len(text)


def _where(error: json.JSONDecodeError, character: int) -> str:
    """'expecting ',' delimiter at character 12', or 'unterminated string starting at character 7'."""
    text = error.msg[:1].lower() + error.msg[1:]
    return f"{text} character {character}" if text.endswith(" at") else f"{text} at character {character}"
