"""Property tests: no input, however strange, makes validation raise, and every report keeps its promises."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.data import reports, validation
from workbench.data.problems import CODES


NAMES = st.sampled_from(["data.jsonl", "data.json", "data.csv", "data.tsv", "data.parquet", "data.txt", "data", ""])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(["role", "content", "from", "value", "weight", "tool_calls", "name", "function_call"])
ROLES = st.sampled_from(["user", "assistant", "system", "tool", "human", "gpt", "function_call", "observation", "x"])
TURNS = st.dictionaries(KEYS, ROLES | JSON_VALUES, max_size=4) | st.fixed_dictionaries(
    {"role": ROLES | JSON_VALUES, "content": JSON_VALUES}
)
RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "messages": st.lists(TURNS, max_size=5) | JSON_VALUES,
        "conversations": st.lists(TURNS, max_size=5),
        "instruction": JSON_VALUES,
        "output": JSON_VALUES,
        "prompt": JSON_VALUES | st.lists(TURNS, max_size=3),
        "completion": JSON_VALUES | st.lists(TURNS, max_size=3),
        "text": JSON_VALUES,
        "tools": JSON_VALUES,
        "history": JSON_VALUES,
        "system": JSON_VALUES,
    },
)
FAST = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def check_promises(report: reports.DataReport) -> None:
    assert len(report.rows) == len(report.sources) <= max(report.total, len(report.rows))
    for problem in report.problems:
        assert CODES[problem.code] == problem.severity
        assert problem.message and str(problem)
    assert reports.exit_code(report) in (0, 1, 2)
    assert reports.exit_code(report) == 0 or not report.ok
    json.dumps(reports.report_json(report))
    report.summary()
    reports.report_text(report)
    reports.problems_csv(report)
    for row in report.rows:
        assert ("messages" in row) != ("text" in row)
        for turn in row.get("messages", ()):
            assert turn["role"] in ("system", "user", "assistant", "tool") and isinstance(turn["content"], str)


@FAST
@given(content=st.binary(max_size=2000), name=NAMES)
def test_arbitrary_bytes_never_raise(content, name):
    check_promises(validation.validate(content, name))


@FAST
@given(values=st.lists(JSON_VALUES, max_size=6), name=NAMES)
def test_arbitrary_json_lines_never_raise(values, name):
    content = "\n".join(json.dumps(value) for value in values).encode()
    check_promises(validation.validate(content, name))
    check_promises(validation.validate(json.dumps(values).encode(), "data.json"))


@FAST
@given(records=st.lists(RECORDS, max_size=6))
def test_records_shaped_like_datasets_never_raise(records):
    content = "\n".join(json.dumps(record) for record in records).encode()
    report = validation.validate(content, "data.jsonl")
    check_promises(report)
    assert report.total == len(records)


@FAST
@given(text=st.text(max_size=400), name=st.sampled_from(["a.csv", "a.tsv", "a.txt"]))
def test_arbitrary_text_tables_never_raise(text, name):
    check_promises(validation.validate(text.encode(), name))


@FAST
@given(values=st.lists(JSON_VALUES, min_size=1, max_size=6), escape=st.sampled_from(["\\ud800", "\\udfff", "\\uDBFF"]))
def test_broken_character_escapes_never_raise(values, escape):
    text = "\n".join(json.dumps(value).replace('"', f'"{escape}', 1) for value in values)
    check_promises(validation.validate(text.encode(), "data.jsonl"))
    check_promises(validation.validate(("[" + ",".join(text.split("\n")) + "]").encode(), "data.json"))
