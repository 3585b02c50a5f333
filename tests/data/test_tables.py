"""A table of malformed and unusual dataset files, each with the exact problems the validator must report.

Each case is (file name, bytes, expected problems as (line, record, code)). Files that should otherwise be usable get
ten distinct good records after the interesting part, so that "too few rows" only appears where it is the point.
"""

import io
import json

import pytest

from workbench.data.validation import validate


def chat(i: int, **extra: object) -> dict:
    return {
        "messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]
    }


def jsonl(*rows: object, pad: int = 10) -> bytes:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    lines += [json.dumps(chat(100 + i)) for i in range(pad)]
    return ("\n".join(lines) + "\n").encode()


def msgs(*turns: tuple) -> dict:
    return {"messages": [{"role": role, "content": content} for role, content in turns]}


def parquet(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), out)
    return out.getvalue()


def csv_text(text: str, pad: int = 10) -> bytes:
    return (text + "".join(f"question {i},answer {i}\n" for i in range(pad))).encode()


U, A, S = "user", "assistant", "system"
CASES = {
    "broken JSON line": ("a.jsonl", jsonl('{"messages": [', chat(1)), [(1, 1, "not_json")]),
    "line is a list": ("a.jsonl", jsonl("[1, 2]"), [(1, 1, "not_object")]),
    "no messages field": ("a.jsonl", jsonl({"msgs": []}), [(1, 1, "missing_messages")]),
    "messages is text": ("a.jsonl", jsonl({"messages": "hello"}), [(1, 1, "malformed_messages")]),
    "messages list empty": ("a.jsonl", jsonl({"messages": []}), [(1, 1, "malformed_messages")]),
    "turn without role": ("a.jsonl", jsonl({"messages": [{"content": "hi"}]}), [(1, 1, "malformed_messages")]),
    "unknown role": ("a.jsonl", jsonl(msgs(("robot", "x"), (A, "y"))), [(1, 1, "unknown_role")]),
    "half a character pair": (
        "a.jsonl",
        jsonl('{"messages": [{"role": "user", "content": "a\\ud800"}]}'),
        [(1, 1, "not_utf8")],
    ),
    "half a pair in a JSON file": (
        "a.json",
        b'[{"text": "ok"}, {"text": "x\\udc00y"}]',
        [(None, 2, "not_utf8"), (None, None, "few_rows")],
    ),
    "role is a list": ("a.jsonl", jsonl({"messages": [{"role": ["user"], "content": "x"}]}), [(1, 1, "unknown_role")]),
    "turn without content": (
        "a.jsonl",
        jsonl({"messages": [{"role": U}, {"role": A, "content": "y"}]}),
        [(1, 1, "missing_content")],
    ),
    "whitespace content": ("a.jsonl", jsonl(msgs((U, "  \n"), (A, "y"))), [(1, 1, "empty_content")]),
    "number as content": (
        "a.jsonl",
        jsonl({"messages": [{"role": U, "content": 42}, {"role": A, "content": "y"}]}),
        [(1, 1, "non_text_content")],
    ),
    "image part": (
        "a.jsonl",
        jsonl(
            {
                "messages": [
                    {"role": U, "content": [{"type": "image_url", "image_url": {}}]},
                    {"role": A, "content": "y"},
                ]
            }
        ),
        [(1, 1, "non_text_content")],
    ),
    "no assistant turn": ("a.jsonl", jsonl(msgs((S, "s"), (U, "hi"))), [(1, 1, "no_assistant")]),
    "no user turn": ("a.jsonl", jsonl(msgs((S, "s"), (A, "hi"))), [(1, 1, "no_user")]),
    "ends with the user": ("a.jsonl", jsonl(msgs((U, "a"), (A, "b"), (U, "c"))), [(1, 1, "last_not_assistant")]),
    "two user turns in a row": ("a.jsonl", jsonl(msgs((U, "a"), (U, "b"), (A, "c"))), [(1, 1, "role_order")]),
    "system in the middle": ("a.jsonl", jsonl(msgs((U, "a"), (S, "b"), (A, "c"))), [(1, 1, "role_order")]),
    "tool result without a call": ("a.jsonl", jsonl(msgs((U, "a"), ("tool", "b"), (A, "c"))), [(1, 1, "role_order")]),
    "weight 2": (
        "a.jsonl",
        jsonl({"messages": [{"role": U, "content": "a"}, {"role": A, "content": "b", "weight": 2}]}),
        [(1, 1, "bad_weight")],
    ),
    "tool call arguments not JSON": (
        "a.jsonl",
        jsonl(
            {
                "messages": [
                    {"role": U, "content": "a"},
                    {"role": A, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{oops"}}]},
                    {"role": "tool", "content": "r"},
                    {"role": A, "content": "b"},
                ]
            }
        ),
        [(1, 1, "bad_tool_call")],
    ),
    "alpaca record in a chat file": ("a.jsonl", jsonl({"instruction": "a", "output": "b"}), [(1, 1, "mixed_schema")]),
    "exact and near duplicates": (
        "a.jsonl",
        jsonl(chat(1), chat(1), msgs((U, "Question 1!"), (A, "answer  1"))),
        [(2, 2, "duplicate"), (3, 3, "near_duplicate")],
    ),
    "unfilled placeholder": (
        "a.jsonl",
        jsonl(msgs((U, "who are you"), (A, "I am {{name}}."))),
        [(1, 1, "placeholder")],
    ),
    "weight 0 cannot be honoured": (
        "a.jsonl",
        jsonl({"messages": [{"role": U, "content": "a"}, {"role": A, "content": "b", "weight": 0}]}),
        [(None, None, "weight_ignored")],
    ),
    "too few rows": ("a.jsonl", jsonl(chat(1), pad=0), [(None, None, "few_rows")]),
    "empty file": ("a.jsonl", b" \n\n\t\n", [(None, None, "empty_file")]),
    "latin-1 text": (
        "a.jsonl",
        jsonl(msgs((U, "cafe"), (A, "ok"))).replace(b"cafe", b"caf\xe9"),
        [(None, None, "not_utf8")],
    ),
    "UTF-16 file": (
        "a.jsonl",
        "\ufeff".encode("utf-16-le") + json.dumps(chat(1)).encode("utf-16-le"),
        [(None, None, "not_utf8")],
    ),
    "PNG image": ("a.jsonl", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), [(None, None, "binary_file")]),
    "bytes with NULs": ("data.bin", b"abc\x00\x01\x02" * 50, [(None, None, "binary_file")]),
    "plain prose": ("notes.txt", b"Hello there.\nThis is not a dataset.\n", [(None, None, "not_json")]),
    "UTF-8 BOM and CRLF": ("a.jsonl", b"\xef\xbb\xbf" + jsonl(chat(1)).replace(b"\n", b"\r\n"), []),
    "line separator inside a string": (
        "a.jsonl",
        jsonl(msgs((U, "a\u2028b"), (A, "c")), '{"oops'),
        [(2, 2, "not_json")],
    ),
    "broken JSON array": ("a.json", b'[{"text": "a"},\n {"text": "b"\n]', [(None, None, "not_json")]),
    "empty JSON array": ("a.json", b"[]", [(None, None, "no_records")]),
    "one JSON object": ("a.json", json.dumps(chat(1), indent=2).encode(), [(None, None, "few_rows")]),
    "records inside a data wrapper": ("a.json", json.dumps({"data": [chat(i) for i in range(10)]}).encode(), []),
    "CSV with an empty answer": ("a.csv", csv_text("prompt,completion\nhello,\n"), [(2, 1, "empty_content")]),
    "CSV with unknown columns": ("a.csv", csv_text("question,answer\n"), [(None, None, "unknown_format")]),
    "CSV with header only": ("a.csv", b"prompt,completion\n", [(None, None, "no_records")]),
    "CSV without column names": ("a.csv", csv_text(",\n"), [(None, None, "csv_no_columns")]),
    "CSV row with an extra value": ("a.csv", csv_text("prompt,completion\na,b,c\n"), [(2, 1, "bad_csv_row")]),
    "Parquet of chat messages": ("a.parquet", parquet([chat(i) for i in range(10)]), []),
    "broken Parquet": ("a.parquet", b"PAR1" + b"garbage" * 20, [(None, None, "not_parquet")]),
    "ShareGPT with an unknown speaker": (
        "a.json",
        json.dumps(
            [{"conversations": [{"from": "alien", "value": "a"}, {"from": "gpt", "value": "b"}]}]
            + [
                {"conversations": [{"from": "human", "value": f"q{i}"}, {"from": "gpt", "value": f"a{i}"}]}
                for i in range(10)
            ]
        ).encode(),
        [(None, 1, "unknown_role")],
    ),
    "ShareGPT function call not JSON": (
        "a.json",
        json.dumps(
            [
                {
                    "conversations": [
                        {"from": "human", "value": "a"},
                        {"from": "function_call", "value": "call f"},
                        {"from": "observation", "value": "r"},
                        {"from": "gpt", "value": "b"},
                    ]
                }
            ]
            + [
                {"conversations": [{"from": "human", "value": f"q{i}"}, {"from": "gpt", "value": f"a{i}"}]}
                for i in range(10)
            ]
        ).encode(),
        [(None, 1, "bad_tool_call")],
    ),
    "Alpaca without output": (
        "a.json",
        json.dumps(
            [{"instruction": "a", "input": ""}] + [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(10)]
        ).encode(),
        [(None, 1, "no_assistant")],
    ),
    "Alpaca with broken history": (
        "a.json",
        json.dumps(
            [{"instruction": "a", "output": "b", "history": ["just text"]}]
            + [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(10)]
        ).encode(),
        [(None, 1, "malformed_messages")],
    ),
    "plain text with an empty record": (
        "a.jsonl",
        "\n".join(
            [json.dumps({"text": ""}), json.dumps({"text": 5})] + [json.dumps({"text": f"t {i}"}) for i in range(10)]
        ).encode(),
        [(1, 1, "empty_content"), (2, 2, "non_text_content")],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_file_gets_exactly_the_expected_problems(name):
    file_name, content, expected = CASES[name]
    report = validate(content, file_name)
    found = [(problem.line, problem.row, problem.code) for problem in report.problems]
    assert found == expected, [str(problem) for problem in report.problems]
    for problem in report.problems:
        assert problem.message.endswith(".") and (problem.message[0].isupper() or problem.message[0].isdigit())
        assert "Traceback" not in problem.message and len(problem.message) < 320


def test_the_table_is_big_enough():
    assert len(CASES) >= 25


def test_every_problem_says_where_it_is_in_words():
    report = validate(jsonl("[1]", chat(1)), "a.jsonl")
    assert str(report.problems[0]).startswith("Line 1: Each record must be a JSON object")
    csv_report = validate(csv_text("prompt,completion\nhello,\n"), "a.csv")
    assert str(csv_report.problems[0]).startswith('Spreadsheet row 2: The "completion" field has no text')


def test_file_level_messages_name_the_place_and_the_fix():
    latin = validate(b'{"messages": []}\n{"x": "caf\xe9"}\n', "a.jsonl").problems[0].message
    assert "line 2" in latin and "save it as UTF-8" in latin
    broken = validate(b'[{"text": "a"},\n {"text": "b"\n]', "a.json").problems[0].message
    assert "line 3" in broken
    unknown = validate(csv_text("question,answer\n"), "a.csv")
    assert "question, answer" in unknown.problems[0].message and unknown.needs_mapping
    assert unknown.suggested_mapping.prompt == "question" and unknown.suggested_mapping.completion == "answer"
