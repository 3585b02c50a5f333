"""A dataset file read into numbered records: the types every reader returns, and the most records one file may
hold."""

from dataclasses import dataclass, field
from typing import Any

from workbench.data.problems import Problem, ProblemList, problem


MAX_RECORDS = 500_000  # records one dataset file may hold (about 0.7 GB to check); more go into several files


class TooManyRecords(Exception):
    """Raised inside a reader that has passed ``MAX_RECORDS``."""


def too_many_records(what: str) -> Problem:
    message = (
        f"The {what} has more than {MAX_RECORDS:,} records, more than this server checks in one file; split it "
        "into smaller files."
    )
    return problem("too_many_records", message)


@dataclass(slots=True)
class Record:
    """One record read from the file: its 1-based number, its real line number (JSONL) and its parsed value."""

    row: int
    line: int | None
    value: Any


@dataclass
class ReadResult:
    """What reading found: the container kind, the records, the problems and (for tables) the column names."""

    kind: str = ""
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=ProblemList)
    columns: list[str] = field(default_factory=list)
    total: int = 0

    def __post_init__(self) -> None:
        self.total = self.total or len(self.records)
        self.problems = ProblemList(self.problems)

    @property
    def failed(self) -> bool:
        """True when the file as a whole cannot be read."""
        return any(item.row is None and item.severity == "error" for item in self.problems)
