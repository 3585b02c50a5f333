"""Tests for the validator's bounds (workbench.data.validation and the readers and token counts under it): oversized
cells and lines, a Parquet file of 20 million rows, the quadratic CSV sniffer, a million repeated warnings, a
tokenizer that panics, and the wording of two old messages. The memory of these files is measured in
benchmarks/bench_validator_memory.py, not here."""

import io
import json
import signal
from contextlib import contextmanager

import pytest
from tiny_tokenizers import CHATML, build_tokenizer

from workbench.data import page_lines, problems, readers, reports, tokens
from workbench.data.records import MAX_RECORDS
from workbench.data.validation import validate


@contextmanager
def at_most(seconds: int):
    """Fail the test instead of hanging when a check runs away (a guard, not a speed target)."""

    def expire(*_):
        raise AssertionError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer(CHATML)


def test_a_ten_megabyte_cell_is_too_long_from_its_characters_and_never_tokenised(tokenizer):
    # Regression: tokenising one 10 MB CSV cell took 3.5 GB.
    content = ("prompt,completion\n" + "hi,hello\n" * 12 + "hi," + "x" * 10_000_000 + "\n").encode()
    with at_most(60):
        report = validate(content, "big.csv", tokenizer=tokenizer, max_length=512)
    assert report.tokens.oversized == [12] and 12 in report.too_long_rows
    [row_problem] = [item for item in report.problems if item.code == "too_long" and item.row]
    assert "about 2,500,0" in row_problem.message and "(from its characters)" in row_problem.message
    assert "too long to tokenise, so measured by characters" in tokens.too_long_summary(report.tokens)


def test_a_tokenizer_that_panics_fails_that_row_not_the_check(tokenizer, monkeypatch):
    # Regression: a Rust PanicException (a BaseException) escaped `except Exception`. No input makes the tokenizers
    # library panic on demand, so its encoder is replaced by one that raises the same kind of exception.
    class PanicException(BaseException):
        pass

    real = tokens.count_tokens

    def panicking(texts, tok):
        if any("poison" in text for text in texts):
            raise PanicException("called `Result::unwrap()` on an `Err` value")
        return real(texts, tok)

    monkeypatch.setattr(tokens, "count_tokens", panicking)
    rows = [
        {"messages": [{"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": "a"}]} for i in range(5)
    ]
    rows[2]["messages"][0]["content"] = "poison"
    stats = tokens.token_stats(rows, tokenizer, 64)
    assert list(stats.failed) == [2] and "tokenizer failed" in stats.failed[2]
    assert all(stats.lengths[index] > 0 for index in (0, 1, 3, 4))


def test_a_parquet_file_of_twenty_million_rows_is_refused_by_its_row_count():
    # Regression: a 482 KB file grew to 7.5 GB of Python rows and was then "could not be read ()".
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": pa.array(["same"] * 20_000_000)}), buffer, compression="zstd")
    assert buffer.tell() < 2_000_000
    with at_most(30):
        report = validate(buffer.getvalue(), "many.parquet")
    assert [item.code for item in report.problems] == ["too_many_records"]
    assert f"{MAX_RECORDS:,}" in report.problems[0].message and report.rows == []


def test_the_csv_delimiter_is_found_in_linear_time():
    # Regression: csv.Sniffer on 64 KB of `',` froze the server for every user for 32 s.
    with at_most(10):
        report = validate((b"',") * 32_768 + b"\nx,y\n", "odd.csv")
    assert report.kind == "csv" and report.problems
    table = "question;answer\n" + "".join(f"q{i};a{i}\n" for i in range(20))
    assert validate(table.encode(), "semi.csv").columns == ["question", "answer"]


def test_a_million_identical_rows_make_a_bounded_list_of_warnings_and_a_count():
    # Regression: one million identical rows made 999,999 warning objects (1.8 GB, 212 MB of JSON).
    line = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})
    report = validate(("\n".join([line] * 20_000) + "\n").encode(), "same.jsonl")
    assert len(report.problems) == problems.LISTED_PER_CODE and report.problems.counts["duplicate"] == 19_999
    out = reports.report_json(report)
    assert out["problem_counts"] == {"duplicate": 19_999} and len(out["problems"]) == problems.LISTED_PER_CODE
    assert "19,999 records repeat an earlier record" in page_lines.problem_lines(report, 50)[0]
    assert "and 19,949 more problems" in reports.report_text(report)  # 50 listed
    assert report.summary().endswith("Check the 19,999 warnings.")


def test_more_records_than_the_limit_are_refused_with_the_limit_named():
    content = b'{"text": "x"}\n' * (MAX_RECORDS + 1)
    report = validate(content, "huge.jsonl")
    assert [item.code for item in report.problems] == ["too_many_records"]
    assert "split it into smaller files" in report.summary()


def test_two_old_messages_read_right():
    # Regression: "unterminated string starting at at character 81" and "a part of type 'a number'".
    read = readers.read_records(b'{"messages": []}\n{"a": "b\n', "x.jsonl")
    assert read.problems[0].message == "This line is not valid JSON (unterminated string starting at character 7)."
    turn = {"role": "user", "content": [1]}
    report = validate(json.dumps({"messages": [turn, {"role": "assistant", "content": "y"}]}).encode(), "x.jsonl")
    assert report.errors[0].message == "Turn 1 (user) has a number as a part; only text parts can be trained here."
