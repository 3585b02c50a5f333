"""Tests for workbench.readers: bytes to numbered records, with the file's real line numbers and no exceptions."""

import json

from workbench.data import readers, validation


def test_jsonl_keeps_real_line_numbers_across_blank_lines_and_unicode_line_separators():
    text = json.dumps({"text": "one\u2028still one"}, ensure_ascii=False) + "\n\n" + json.dumps({"text": "two"})
    result = readers.read_records(text.encode(), "a.jsonl")
    assert [(record.row, record.line) for record in result.records] == [(1, 1), (2, 3)]
    assert result.records[0].value["text"] == "one\u2028still one"


def test_a_byte_order_mark_is_fine_and_utf16_is_explained():
    assert readers.read_records(b'\xef\xbb\xbf{"text": "hi"}\n', "a.jsonl").records[0].value == {"text": "hi"}
    [problem] = readers.read_records('{"text": "hi"}'.encode("utf-16"), "a.jsonl").problems
    assert problem.code == "not_utf8" and "UTF-16" in problem.message


def test_json_arrays_wrappers_and_single_objects_become_records():
    rows = [{"text": "a"}, {"text": "b"}]
    assert [r.value for r in readers.read_records(json.dumps(rows).encode(), "a.json").records] == rows
    wrapped = json.dumps({"data": rows}).encode()
    assert [r.value for r in readers.read_records(wrapped, "a.json").records] == rows
    one = json.dumps({"instruction": [{}, {}]}).encode()
    assert len(readers.read_records(one, "a.jsonl").records) == 1, "a layout field is a record, not a wrapper"


def test_binary_files_are_named_not_parsed():
    for content, what in ((b"PK\x03\x04rest", "ZIP"), (b"%PDF-1.7", "PDF"), (b"\x00\x01\x02\x03" * 50, "binary")):
        [problem] = readers.read_records(content, "upload.jsonl").problems
        assert problem.code == "binary_file" and what in problem.message


def test_csv_problems_name_the_spreadsheet_row():
    result = readers.read_records(b"prompt,completion\na,b\nc,d,e\n", "a.csv")
    assert result.columns == ["prompt", "completion"] and [r.value for r in result.records] == [
        {"prompt": "a", "completion": "b"}
    ]
    [problem] = result.problems
    assert problem.code == "bad_csv_row" and (problem.row, problem.line) == (2, 3)
    blank_and_multiline = b'prompt,completion\n"a\nb",c\n\nd,e,f\n'
    report = validation.validate(blank_and_multiline, "a.csv")
    [problem] = [item for item in report.problems if item.code == "bad_csv_row"]
    assert str(problem).startswith("Spreadsheet row 4: This row has 3 values"), (
        "header 1, a multi-line cell 2, blank 3"
    )
