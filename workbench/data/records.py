"""A dataset file read into numbered records: the types every reader returns."""

from dataclasses import dataclass, field
from typing import Any

from workbench.data.problems import Problem


@dataclass
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
    problems: list[Problem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    total: int = 0

    def __post_init__(self) -> None:
        self.total = self.total or len(self.records)

    @property
    def failed(self) -> bool:
        """True when the file as a whole cannot be read."""
        return any(item.row is None and item.severity == "error" for item in self.problems)
