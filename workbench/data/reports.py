"""``DataReport``: what a dataset check found, and how it reads: the summary and counts the pages show, the CLI's
JSON contract and text, the page's problem lines, the CSV download, and the captions under the token-length
histogram and tool-call previews. ``workbench.data.validation`` makes the report."""

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from workbench.data.formats import FORMAT_LABELS
from workbench.data.mapping import ColumnMapping
from workbench.data.problems import CODES, ERROR, WARNING, Problem, ProblemList, problem
from workbench.data.tokens import too_long_summary
from workbench.words import plural


@dataclass
class DataReport:
    """What validation found: the usable training rows, the problems in file order, and counts.

    ``rows`` are normalised ``{"messages": [...]}`` rows (``{"text": ...}`` for plain-text data) in file order;
    ``sources[i]`` is the (record number, line number) of ``rows[i]`` in the file.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=ProblemList)
    lines_read: int = 0
    format: str | None = None
    kind: str = ""
    columns: list[str] = field(default_factory=list)
    mapping: ColumnMapping | None = None
    suggested_mapping: ColumnMapping | None = None
    sources: list[tuple[int, int | None]] = field(default_factory=list)
    duplicate_rows: set[int] = field(default_factory=set)
    too_long_rows: set[int] = field(default_factory=set)
    tokens: Any = None  # a workbench.data.tokens.TokenStats once token checks ran
    template: str = ""  # which chat template trains these rows, as a sentence (once token checks ran)
    counted_with: str = ""  # whose tokenizer counted the tokens: "the built-in demo model", a hub id or a folder

    def __post_init__(self) -> None:
        self.problems = ProblemList(self.problems)  # the first of each kind listed, every one counted

    @property
    def total(self) -> int:
        """Records read, usable or not."""
        return self.lines_read

    @property
    def errors(self) -> list[Problem]:
        return [item for item in self.problems if item.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [item for item in self.problems if item.severity == WARNING]

    @property
    def warning_count(self) -> int:
        """Every warning, the unlisted ones included; a sentence summing up a kind of record warning adds none."""
        every = sum(count for code, count in counts(self).items() if CODES.get(code) == WARNING)
        return every - len(summaries(self))

    @property
    def file_errors(self) -> list[Problem]:
        """Errors that make the whole file unusable."""
        return [item for item in self.errors if item.row is None]

    @property
    def ok(self) -> bool:
        """True when every record is usable as it is (warnings allowed)."""
        return bool(self.rows) and not self.errors

    @property
    def usable(self) -> bool:
        """True when at least some records can be trained on."""
        return bool(self.rows) and not self.file_errors

    @property
    def needs_mapping(self) -> bool:
        return any(item.code == "unknown_format" for item in self.problems)

    @property
    def duplicates(self) -> int:
        return len(self.duplicate_rows)

    @property
    def too_long(self) -> int:
        return len(self.too_long_rows)

    def where(self, index: int) -> str:
        """'line 12' (JSONL), 'spreadsheet row 13' (CSV) or 'record 12' for the usable row ``index``."""
        row, line = self.sources[index]
        if line:
            return f"spreadsheet row {line}" if self.kind == "csv" else f"line {line}"
        return f"record {row}"

    def summary(self) -> str:
        """One sentence for the top of the page."""
        if self.file_errors:
            return self.file_errors[0].message
        noun = "text" if self.format == "text" else "conversation"
        if self.ok:
            tail = f" Check the {plural(self.warning_count, 'warning')}." if self.warnings else ""
            return f"{plural(len(self.rows), noun)} {'is' if len(self.rows) == 1 else 'are'} ready for training.{tail}"
        bad = self.total - len(self.rows)
        return (
            f"{len(self.rows):,} of {plural(self.total, 'record')} are usable; {bad:,} "
            f"{'has' if bad == 1 else 'have'} errors. Fix them in the file and upload it again, or save a cleaned "
            "version without them."
        )

    def loaded_message(self, name: str) -> str:
        """The success line of a file without errors."""
        noun = "text" if self.format == "text" else "conversation"
        tail = f" Check the {plural(self.warning_count, 'warning')} below." if self.warnings else ""
        return f"Loaded {plural(len(self.rows), noun)} from {name}; every record is ready for training.{tail}"

    def metrics(self, max_length: int) -> list[tuple[str, str, str]]:
        """(label, value, help) of the numbers at the top of the insight panel."""
        facts = self.overview()
        return [
            ("Usable records", f"{facts['rows']:,} of {facts['records']:,}", "Records without errors."),
            (
                "Turns per conversation",
                f"{facts['turns_mean']:.1f}",
                f"From {facts['turns_min']} to {facts['turns_max']}.",
            ),
            ("Duplicates", f"{self.duplicates:,}", "Exact and near-exact repeats (case, spaces, punctuation)."),
            (f"Longer than {max_length} tokens", f"{self.too_long:,}", f"Counted with {self.tokenizer_name()}."),
        ]

    def tokenizer_name(self) -> str:
        return (
            f"the tokenizer and chat template of {self.counted_with}"
            if self.counted_with
            else "the model's chat template"
        )

    def template_warnings(self) -> list[str]:
        """The messages of the chat-template warnings (shown next to "what the model sees")."""
        codes = ("no_chat_template", "template_prompt_mismatch", "template_no_end_of_turn", "template_no_tools")
        return [item.message for item in self.problems if item.code in codes]

    def roles_caption(self) -> str:
        """'Turns by role: user 120, assistant 120.' (or a note for plain text)."""
        roles = self.overview()["roles"]
        if not roles:
            return "Plain text: no chat turns, so every token is trained."
        return "Turns by role: " + ", ".join(f"{role} {count:,}" for role, count in roles.items()) + "."

    def overview(self) -> dict[str, Any]:
        """Counts for the insight panel: rows, turns per conversation and how often each role speaks."""
        turns = [len(row["messages"]) for row in self.rows if "messages" in row]
        roles = Counter(turn["role"] for row in self.rows for turn in row.get("messages", ()))
        return {
            "rows": len(self.rows),
            "records": self.total,
            "turns_min": min(turns, default=0),
            "turns_mean": sum(turns) / len(turns) if turns else 0.0,
            "turns_max": max(turns, default=0),
            "roles": dict(roles),
        }


def sort_problems(report: DataReport) -> None:
    """Put file errors first, then the records' problems in file order, then the file's warnings."""
    report.problems.sort(key=lambda item: (_rank(item), item.row or 0, item.severity != ERROR))


def _rank(item: Problem) -> int:
    if item.row is None:
        return 0 if item.severity == ERROR else 2
    return 1


def failed_report(code: str, message: str) -> DataReport:
    """A report for a file that could not be checked at all (missing, too large, or no tokenizer)."""
    return DataReport(problems=[problem(code, message)])


def describe_format(report: DataReport) -> str:
    """'Alpaca instructions in a JSON file' and the like."""
    kind = {"jsonl": "a JSONL file", "json": "a JSON file", "csv": "a CSV file", "parquet": "a Parquet file"}
    label = FORMAT_LABELS.get(report.format or "", "an unknown layout")
    mapped = " (columns mapped by hand)" if report.mapping else ""
    return f"{label}{mapped} in {kind.get(report.kind, 'a file')}"


def report_json(report: DataReport) -> dict[str, Any]:
    """The CLI's JSON contract: ok, format, total, rows, duplicates, too_long and the problems."""
    return {
        "ok": report.ok,
        "format": report.format,
        "total": report.total,
        "rows": len(report.rows),
        "duplicates": report.duplicates,
        "too_long": report.too_long,
        "problems": [item.to_dict() for item in report.problems],
        "problem_counts": dict(counts(report)),
    }


def report_text(report: DataReport, limit: int = 50) -> str:
    """The summary, a line about the layout, and the first problems, for people at a terminal."""
    lines = [report.summary()]
    if report.format:
        lines.append(f"Read as {describe_format(report)}: {report.total} records, {len(report.rows)} usable.")
    lines += [f"  {item.severity}: {item}" for item in report.problems[:limit]]
    hidden = sum(counts(report).values()) - min(limit, len(report.problems))
    if hidden > 0:
        lines.append(f"  ... and {plural(hidden, 'more problem')} (--json lists each kind's first ones and counts).")
    return "\n".join(lines)


def exit_code(report: DataReport) -> int:
    """0 when every record is usable, 1 when some records have errors, 2 when the file cannot be used at all."""
    if report.ok:
        return 0
    return 1 if report.usable else 2


def summaries(report: DataReport) -> dict[str, Problem]:
    """File-level sentences that sum up a kind of record warning (the too-long records and the tokens they lose)."""
    row_codes = {item.code for item in report.warnings if item.row is not None}
    return {item.code: item for item in report.warnings if item.row is None and item.code in row_codes}


def counts(report: DataReport) -> dict[str, int]:
    """Every problem's code and how many there are, the unlisted ones included."""
    problems = report.problems
    return dict(problems.counts) if isinstance(problems, ProblemList) else Counter(item.code for item in problems)


def problems_csv(report: DataReport) -> str:
    """Every problem as CSV (line, record, severity, code, message), for the page's download button."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "record", "severity", "code", "message"])
    for item in report.problems:
        writer.writerow([item.line or "", item.row or "", item.severity, item.code, item.message])
    return out.getvalue()


def token_caption(report: DataReport) -> str:
    """A sentence under the token-length histogram: what is cut, and how many lengths are estimates."""
    stats = report.tokens
    parts = [f"Tokens counted with {report.tokenizer_name()}"]
    parts.append(f"no record is longer than the max length of {stats.max_length} tokens")
    if report.too_long:
        parts[1] = too_long_summary(stats).split(". ")[0]
    if stats.estimated:
        parts.append(
            f"the lengths of {plural(stats.estimated, 'short record')} are estimated from their characters (exact "
            "counts of a sample); every record near the limit was counted exactly"
        )
    return "; ".join(parts) + "."


def describe_call(call: dict[str, Any]) -> str:
    """A tool call as readable JSON for the preview."""
    function = call["function"]
    arguments = json.loads(function["arguments"]) if isinstance(function["arguments"], str) else function["arguments"]
    return json.dumps({"call": function["name"], "arguments": arguments}, ensure_ascii=False, indent=1)
