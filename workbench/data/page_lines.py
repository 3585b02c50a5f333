"""The Data and Datasets pages' list of problems as markdown lines: every error with its place, warnings of one kind
about many records folded into one line, each with its severity and code; text escaped so a record cannot format
the page."""

import re

from workbench.data import reports
from workbench.data.problems import CODES, ERROR, Problem
from workbench.data.reports import DataReport
from workbench.words import plural


MARKDOWN = re.compile(r"([\\`*_{}\[\]<>#+!|$~])")  # characters markdown would read as formatting

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
    counts = reports.counts(report)
    lines = [_markdown(item) for item in errors[:limit]]
    all_errors = sum(count for code, count in counts.items() if CODES.get(code) == ERROR)
    if all_errors > min(limit, len(errors)):
        lines.append(f"… and {plural(all_errors - min(limit, len(errors)), 'more error')} (download the list below).")
    summaries = reports.summaries(report)
    by_code: dict[str, list[Problem]] = {}
    for item in report.warnings:
        if item.row is None and item.code in summaries:
            continue  # said once, in the head of its kind's line
        by_code.setdefault(item.code if item.row is not None else f"file:{id(item)}", []).append(item)
    for code, items in by_code.items():
        if code in GROUPED and len(items) > group_over:
            lines.append(_group_line(code, items, counts.get(code, 0) - (code in summaries), summaries.get(code)))
        else:
            lines += [_markdown(item) for item in items[:limit]]
            if code in summaries:
                lines.append(_markdown(summaries[code]))
    return lines


def _group_line(code: str, items: list[Problem], total: int, summary: Problem | None) -> str:
    """One line for many records with the same warning: the sentence, the first places, how many more."""
    total = max(total, len(items))
    where = (items[0].unit.lower() + "s") if items[0].line else "records"
    places = where + " " + ", ".join(str(item.line or item.row) for item in items[:5])
    more = f" and {total - 5:,} more" if total > 5 else ""
    head = summary.message.rstrip(".") if summary else f"{plural(total, 'record')} {GROUPED[code]}"
    return f":orange[●] {_escape(head)}: {places}{more}. {_tag(items[0])}"


def _markdown(item: Problem) -> str:
    dot = ":red[●]" if item.severity == ERROR else ":orange[●]"
    return f"{dot} {_escape(str(item))} {_tag(item)}"


def _tag(item: Problem) -> str:
    """The severity and the stable code, small and grey, for people who search the README or filter the CSV."""
    return f":gray[{item.severity} · {item.code}]"


def _escape(text: str) -> str:
    """Text shown as it is in markdown (no accidental italics, links or formulas)."""
    return MARKDOWN.sub(r"\\\1", text)
