"""Tests for workbench.data.page_lines: the problems of a file as the Data and Datasets pages list them."""

import re

from conftest import REAL_DATASETS
from data_files import chat_line, lines
from tiny_tokenizers import CHATML, build_tokenizer

from workbench.data import validation
from workbench.data.page_lines import problem_lines


def test_page_lines_fold_many_warnings_of_a_kind_and_escape_markdown():
    report = validation.validate((REAL_DATASETS / "llamafactory_identity.json").read_bytes(), "identity.json")
    assert problem_lines(report, 50) == [
        (
            ":orange[●] 85 records contain an unfilled \\{\\{placeholder\\}\\}; replace it with the real value: "
            "records 1, 2, 3, 4, 5 and 80 more. :gray[warning · placeholder]"
        )
    ]
    few = validation.validate(lines(chat_line(1), chat_line(1), "[1]"))
    assert problem_lines(few, 50) == [
        (
            ':red[●] Line 3: Each record must be a JSON object like \\{"messages": \\[...\\]\\}, not a list. '
            ":gray[error · not_object]"
        ),
        (
            ":orange[●] Line 2: The same conversation already appears on line 1; repeats make the model over-learn "
            "it, so remove the copy (Clean on the Data page does it). :gray[warning · duplicate]"
        ),
        (
            ":orange[●] Only 2 usable conversations; at least 10 are advised, 50 or more work better. "
            ":gray[warning · few_rows]"
        ),
    ]


def test_the_warning_count_is_what_the_listed_lines_add_up_to():
    content = (REAL_DATASETS / "llamafactory_alpaca_en_demo.json").read_bytes()
    report = validation.validate(content, "alpaca.json", tokenizer=build_tokenizer(CHATML), max_length=256)
    listed = problem_lines(report, 50)
    assert len([line for line in listed if "warning · too_long" in line]) == 1, "the cut records are one line"
    counted = sum(
        int(found[1].replace(",", "")) for line in listed if (found := re.match(r":orange\[●\] ([\d,]+) rec", line))
    )
    assert counted == report.warning_count and f"Check the {report.warning_count:,} warnings" in report.summary()
    [cut] = [line for line in listed if "warning · too_long" in line]
    assert report.too_long > 200, "more cut records than are listed one by one"
    assert cut.startswith(f":orange[●] {report.too_long:,} records are longer"), "the line and the metric agree"
