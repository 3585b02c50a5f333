"""One problem found in a dataset, and the list of problem codes with what each means.

Every check in the data package (readers, formats, validation, template checks) reports a ``Problem``: where
it is (the file's real line number for JSONL, and the 1-based record number), a short stable code for machines, a
severity, and one plain sentence with a fix for people. File-level problems have neither line nor record.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self


ERROR = "error"
WARNING = "warning"

# Every code the validator can report, with its severity; the page, the CLI and the tests rely on these names.
CODES: dict[str, str] = {
    # the file as a whole
    "no_file": ERROR,
    "model_unavailable": ERROR,
    "empty_file": ERROR,
    "not_utf8": ERROR,
    "binary_file": ERROR,
    "too_large": ERROR,
    "too_many_records": ERROR,
    "not_parquet": ERROR,
    "csv_no_columns": ERROR,
    "no_records": ERROR,
    "unknown_format": ERROR,
    # one record
    "not_json": ERROR,
    "not_object": ERROR,
    "bad_csv_row": ERROR,
    "missing_messages": ERROR,
    "malformed_messages": ERROR,
    "unknown_role": ERROR,
    "missing_content": ERROR,
    "empty_content": ERROR,
    "non_text_content": ERROR,
    "bad_weight": ERROR,
    "bad_tool_call": ERROR,
    "bad_tools": ERROR,
    "no_assistant": ERROR,
    "no_user": ERROR,
    "last_not_assistant": ERROR,
    "role_order": ERROR,
    "mixed_schema": ERROR,
    "template_error": ERROR,
    # warnings
    "duplicate": WARNING,
    "near_duplicate": WARNING,
    "few_rows": WARNING,
    "too_long": WARNING,
    "placeholder": WARNING,
    "weight_ignored": WARNING,
    "overlap": WARNING,
    "no_chat_template": WARNING,
    "template_prompt_mismatch": WARNING,
    "template_no_end_of_turn": WARNING,
    "template_no_tools": WARNING,
}


@dataclass
class Problem:
    """One problem in a dataset file, in words a non-engineer understands."""

    line: int | None  # the file's real line number where the record starts (JSONL only)
    code: str  # a short stable name from CODES
    message: str  # one sentence saying what is wrong and how to fix it
    severity: str = ERROR  # "error" (the record cannot be used) or "warning"
    row: int | None = None  # the 1-based record number; None for problems of the whole file
    unit: str = "Line"  # what ``line`` counts: the file's lines, or "Spreadsheet row" in a CSV (the header is row 1)

    def __str__(self) -> str:
        if self.line:
            return f"{self.unit} {self.line}: {self.message}"
        if self.row:
            return f"Record {self.row}: {self.message}"
        return self.message

    def to_dict(self) -> dict[str, object]:
        """The problem as the CLI's JSON prints it."""
        return {
            "line": self.line,
            "row": self.row,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }


def problem(code: str, message: str, row: int | None = None, line: int | None = None) -> Problem:
    """A Problem whose severity comes from ``CODES``."""
    return Problem(line, code, message, CODES[code], row)


LISTED_PER_CODE = 200  # problems of one kind kept with their place; the rest are only counted


class ProblemList(list):
    """The problems of one file: a list that keeps the first ``LISTED_PER_CODE`` problems of each kind and counts the
    others, so a million identical rows make 200 warnings and a count, not a million objects. File-level sentences
    (no row) are always kept: one sums up its kind's rows and must not be lost behind them."""

    def __init__(self, items: Iterable[Problem] = ()) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()  # every problem of each code, listed or not
        self.extend(items)

    def append(self, item: Problem) -> None:
        self.counts[item.code] += 1
        if self.counts[item.code] <= LISTED_PER_CODE or item.row is None:  # a file-level sentence is always kept
            super().append(item)

    def extend(self, items: Iterable[Problem]) -> None:
        items = list(items) if not isinstance(items, ProblemList) else items
        for item in items:
            self.append(item)
        if isinstance(items, ProblemList):  # the other list's unlisted problems still count
            for code, count in items.counts.items():
                self.counts[code] += count - sum(1 for item in items if item.code == code)

    def __iadd__(self, items: Iterable[Problem]) -> Self:  # type: ignore[override]
        self.extend(items)
        return self

    def unlisted(self) -> dict[str, int]:
        """Codes with problems beyond the listed ones, and how many more there are."""
        listed = Counter(item.code for item in self)
        return {code: count - listed[code] for code, count in self.counts.items() if count > listed[code]}
