"""Tests for workbench.reports: how a dataset check reads on the page, at the terminal and as JSON or CSV."""

import csv
import io

from data_files import chat_line, lines

from workbench.data import reports, validation


def test_json_text_csv_and_exit_code_of_a_file_with_one_bad_line():
    report = validation.validate(lines(*(chat_line(i) for i in range(12)), "{broken"), "chats.jsonl")
    contract = reports.report_json(report)
    assert (contract["ok"], contract["format"], contract["total"], contract["rows"]) == (False, "messages", 13, 12)
    assert [(p["line"], p["row"], p["code"]) for p in contract["problems"]] == [(13, 13, "not_json")]
    assert reports.exit_code(report) == 1
    text = reports.report_text(report)
    assert text.splitlines()[1] == "Read as OpenAI chat messages in a JSONL file: 13 records, 12 usable."
    rows = list(csv.reader(io.StringIO(reports.problems_csv(report))))
    assert rows[0] == ["line", "record", "severity", "code", "message"] and rows[1][:4] == [
        "13",
        "13",
        "error",
        "not_json",
    ]
    assert reports.exit_code(validation.validate(b"", "empty.jsonl")) == 2
