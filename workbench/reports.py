"""How a dataset check reads: the CLI's JSON contract and text, the page's problem lines, the CSV download, and
the captions under the token-length histogram and tool-call previews. ``workbench.validation`` makes the report."""

import csv
import io
import json
import re
from typing import Any

from workbench.formats import FORMAT_LABELS
from workbench.problems import ERROR, Problem, plural
from workbench.validation import DataReport


MARKDOWN = re.compile(r"([\\`*_{}\[\]<>#+!|$~])")  # characters markdown would read as formatting


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
    }


def report_text(report: DataReport, limit: int = 50) -> str:
    """The summary, a line about the layout, and the first problems, for people at a terminal."""
    lines = [report.summary()]
    if report.format:
        lines.append(f"Read as {describe_format(report)}: {report.total} records, {len(report.rows)} usable.")
    lines += [f"  {item.severity}: {item}" for item in report.problems[:limit]]
    if len(report.problems) > limit:
        lines.append(f"  ... and {len(report.problems) - limit} more problems (--json lists them all).")
    return "\n".join(lines)


def exit_code(report: DataReport) -> int:
    """0 when every record is usable, 1 when some records have errors, 2 when the file cannot be used at all."""
    if report.ok:
        return 0
    return 1 if report.usable else 2


GROUPED = {  # row warnings that are listed as one line per kind when there are many
    "duplicate": "repeat an earlier record exactly; remove the copies (Clean does it)",
    "near_duplicate": "nearly repeat an earlier record (only case, spaces or punctuation differ); keep one of each",
    "too_long": "are longer than the max length, so their ends are cut off in training",
    "placeholder": "contain an unfilled {{placeholder}}; replace it with the real value",
    "overlap": "also appear in the training data; remove them from one of the two sets",
}


def problem_lines(report: DataReport, limit: int, group_over: int = 3) -> list[str]:
    """Markdown lines for the page: every error (up to ``limit``), and warnings of one kind that concern more than
    ``group_over`` records folded into one line. A red dot marks errors, an orange one warnings."""
    errors = [item for item in report.problems if item.severity == ERROR]
    lines = [_markdown(item) for item in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"… and {plural(len(errors) - limit, 'more error')} (download the list below).")
    by_code: dict[str, list[Problem]] = {}
    for item in report.warnings:
        by_code.setdefault(item.code if item.row is not None else f"file:{id(item)}", []).append(item)
    for code, items in by_code.items():
        if code in GROUPED and len(items) > group_over:
            where = "lines" if items[0].line else "records"
            places = where + " " + ", ".join(str(item.line or item.row) for item in items[:5])
            more = f" and {len(items) - 5:,} more" if len(items) > 5 else ""
            lines.append(f":orange[●] {plural(len(items), 'record')} {_escape(GROUPED[code])}: {places}{more}.")
        else:
            lines += [_markdown(item) for item in items[:limit]]
    return lines


def _markdown(item: Problem) -> str:
    dot = ":red[●]" if item.severity == ERROR else ":orange[●]"
    return f"{dot} {_escape(str(item))}"


def _escape(text: str) -> str:
    """Text shown as it is in markdown (no accidental italics, links or formulas)."""
    return MARKDOWN.sub(r"\\\1", text)


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
    parts = [f"No record is longer than the max length of {stats.max_length} tokens"]
    if report.too_long:
        from workbench.tokens import too_long_summary

        parts = [too_long_summary(stats).split(". ")[0]]
    if stats.estimated:
        parts.append(
            f"the lengths of {stats.estimated:,} short records are estimated from their characters (exact counts of a "
            "sample); every record near the limit was counted exactly"
        )
    return "; ".join(parts) + "."


def describe_call(call: dict[str, Any]) -> str:
    """A tool call as readable JSON for the preview."""
    function = call["function"]
    arguments = json.loads(function["arguments"]) if isinstance(function["arguments"], str) else function["arguments"]
    return json.dumps({"call": function["name"], "arguments": arguments}, ensure_ascii=False, indent=1)
