"""Tests for workbench.reports: how a dataset check reads on the page, at the terminal and as JSON or CSV."""

import csv
import io
import json

from conftest import REAL_DATASETS

from workbench.data import reports, validation
from workbench.data.reports import problem_lines


def chat_line(i: int) -> str:
    return json.dumps(
        {"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": f"yo {i}"}]}
    )


def lines(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def test_page_lines_fold_many_warnings_of_a_kind_and_escape_markdown():
    report = validation.validate((REAL_DATASETS / "llamafactory_identity.json").read_bytes(), "identity.json")
    assert problem_lines(report, 50) == [
        (
            ":orange[●] 85 records contain an unfilled \\{\\{placeholder\\}\\}; replace it with the real value: "
            "records 1, 2, 3, 4, 5 and 80 more."
        )
    ]
    few = validation.validate(lines(chat_line(1), chat_line(1), "[1]"))
    assert problem_lines(few, 50) == [
        ':red[●] Line 3: Each record must be a JSON object like \\{"messages": \\[...\\]\\}, not a list.',
        (
            ":orange[●] Line 2: The same conversation already appears on line 1; repeats make the model over-learn "
            "it, so remove the copy (Clean on the Data page does it)."
        ),
        ":orange[●] Only 2 usable conversations; at least 10 are advised, 50 or more work better.",
    ]


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
