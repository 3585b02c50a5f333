"""Tests for workbench.data.sources and validation: the four real datasets, and rows the trainer can use."""

import io
import json
from collections import Counter

import pytest
from conftest import REAL_DATASETS
from data_files import chat_line, lines

from workbench.data import cleaning, library, mapping, reports, sources, uploads, validation
from workbench.errors import UserError


def validate(content: bytes) -> reports.DataReport:
    return validation.validate(content, "data.jsonl")


GOOD = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})


def codes(report: reports.DataReport) -> Counter:
    return Counter(problem.code for problem in report.problems)


def test_valid_file_gives_rows_and_no_problems():
    report = validate(lines(*map(chat_line, range(5)), "", *map(chat_line, range(5, 10))))
    assert report.ok and len(report.rows) == 10 and report.problems == []
    assert report.rows[0] == {
        "messages": [{"role": "user", "content": "hi 0"}, {"role": "assistant", "content": "yo 0"}]
    }
    assert report.format == "messages" and report.total == 10


def test_bad_lines_are_reported_with_their_real_line_numbers():
    no_assistant = json.dumps({"messages": [{"role": "user", "content": "hi"}]})
    bad_role = json.dumps({"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]})
    empty = json.dumps({"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "y"}]})
    report = validate(lines(GOOD, "", '{"messages": [', "[1, 2]", no_assistant, bad_role, empty, "{}"))
    found = [(problem.line, problem.code) for problem in report.errors]
    assert found == [
        (3, "not_json"),
        (4, "not_object"),
        (5, "no_assistant"),
        (6, "unknown_role"),
        (7, "empty_content"),
        (8, "missing_messages"),
    ]
    assert [problem.row for problem in report.errors] == [2, 3, 4, 5, 6, 7]
    assert len(report.rows) == 1 and not report.ok and report.total == 7
    assert str(report.problems[0]).startswith("Line 3: This line is not valid JSON")


def test_empty_and_non_utf8_files_are_explained():
    assert validate(b"  \n\n").problems[0].code == "empty_file"
    assert validate(b"\xff\xfe\x00bad").problems[0].code == "not_utf8"
    assert "empty" in validate(b"").summary()


def test_utf8_bom_is_accepted():
    assert validate(b"\xef\xbb\xbf" + lines(*map(chat_line, range(10)))).ok


def test_flawed_openai_example_file_is_caught():
    report = validate((REAL_DATASETS / "openai_toy_chat_fine_tuning.jsonl").read_bytes())
    assert len(report.rows) == 4, "most of the file is usable"
    assert [(problem.line, problem.code) for problem in report.errors] == [(4, "no_user")]
    assert [problem.code for problem in report.problems if problem.severity == "warning"] == ["few_rows"]


def test_alpaca_demo_is_read_as_alpaca_and_its_duplicates_are_found():
    report = validation.validate(
        (REAL_DATASETS / "llamafactory_alpaca_en_demo.json").read_bytes(), "alpaca_en_demo.json"
    )
    assert (report.kind, report.format, report.total, len(report.rows), report.ok) == (
        "json",
        "alpaca",
        999,
        999,
        True,
    )
    assert codes(report) == {"duplicate": 14} and report.duplicates == 14
    with_input = next(row for row in report.rows if len(row["messages"][0]["content"].split("\n")) > 1)
    assert [turn["role"] for turn in with_input["messages"]] == ["user", "assistant"]


def test_glaive_tool_calls_are_mapped_to_openai_roles():
    report = validation.validate(
        (REAL_DATASETS / "llamafactory_glaive_toolcall_en_demo.json").read_bytes(), "glaive.json"
    )
    assert (report.format, len(report.rows), report.ok) == ("sharegpt", 300, True)
    assert codes(report) == {"duplicate": 35, "near_duplicate": 4}
    first = report.rows[0]
    roles = ["user", "assistant", "user", "assistant", "tool", "assistant", "user", "assistant"]
    assert [turn["role"] for turn in first["messages"]] == roles
    call = first["messages"][3]["tool_calls"][0]["function"]
    assert call == {"name": "search_recipes", "arguments": '{"ingredients": ["chicken", "bell peppers", "rice"]}'}
    assert json.loads(first["tools"])[0]["name"] == "search_recipes"
    counted = Counter(turn["role"] for row in report.rows for turn in row["messages"])
    assert counted == {"user": 746, "assistant": 746 + 211, "tool": 211}


def test_identity_placeholders_are_flagged_on_every_affected_row():
    report = validation.validate((REAL_DATASETS / "llamafactory_identity.json").read_bytes(), "identity.json")
    assert (report.format, len(report.rows), report.ok) == ("alpaca", 91, True)
    assert codes(report) == {"placeholder": 85}
    assert "{{name}}" in report.problems[0].message and report.problems[0].row == 1


def test_upload_is_stored_under_a_hash_not_the_users_path(home):
    path = uploads.save_upload("../../etc/evil name.jsonl", lines(GOOD))
    assert path.parent == home / "datasets"
    assert path.name.startswith("evil-name-") and path.read_bytes() == lines(GOOD)
    assert uploads.save_upload("other.jsonl", lines(GOOD)).name != path.name
    assert uploads.save_upload("table.csv", b"prompt,completion\n").suffix == ".csv"
    assert uploads.save_upload("weird.exe", b"x").suffix == ".dat"


def test_load_rows_refuses_a_broken_dataset(tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(lines(GOOD, "not json"))
    with pytest.raises(UserError, match="Line 2"):
        sources.load_rows(str(broken))


def parquet_bytes(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), out)
    return out.getvalue()


EXPECTED = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "2+2?"},
    {"role": "assistant", "content": "4"},
]
SAME_CHAT_IN_EVERY_LAYOUT = {
    "chat.jsonl": lines(json.dumps({"messages": EXPECTED})),
    "chat.json": json.dumps(
        [
            {
                "conversations": [
                    {"from": "system", "value": "Be brief."},
                    {"from": "human", "value": "2+2?"},
                    {"from": "gpt", "value": "4"},
                ]
            }
        ]
    ).encode(),
    "alpaca.json": json.dumps({"instruction": "2+2?", "input": "", "output": "4", "system": "Be brief."}).encode(),
    "pc.csv": b"system,prompt,completion\nBe brief.,2+2?,4\n",
    "pc.parquet": parquet_bytes([{"system": "Be brief.", "prompt": "2+2?", "completion": "4"}]),
    "pc_conversational.jsonl": lines(json.dumps({"prompt": EXPECTED[:2], "completion": EXPECTED[2:]})),
}


@pytest.mark.parametrize("name", list(SAME_CHAT_IN_EVERY_LAYOUT))
def test_load_rows_gives_the_trainer_the_same_messages_from_every_layout(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(SAME_CHAT_IN_EVERY_LAYOUT[name])
    assert sources.load_rows(str(path)) == [{"messages": EXPECTED}]


def test_plain_text_rows_stay_text(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(lines(*(json.dumps({"text": f"line {i}"}) for i in range(3))))
    assert sources.load_rows(str(path)) == [{"text": "line 0"}, {"text": "line 1"}, {"text": "line 2"}]


def test_load_rows_uses_the_column_mapping_saved_with_a_library_version(home):
    content = b"question,answer\n" + b"".join(f"q{i},a{i}\n".encode() for i in range(10))
    report = validation.validate(content, "faq.csv", mapping.ColumnMapping(prompt="question", completion="answer"))
    assert report.ok and report.format == "prompt_completion"
    version = library.create_dataset("faq.csv", content, report)
    assert version.path.suffix == ".csv" and version.mapping["prompt"] == "question"
    rows = sources.load_rows(str(version.path))
    assert rows[0] == {"messages": [{"role": "user", "content": "q0"}, {"role": "assistant", "content": "a0"}]}


def test_eval_rows_come_from_a_versions_validation_split(home):
    content = lines(*map(chat_line, range(20)))
    report = validation.validate(content, "chats.jsonl")
    original = library.create_dataset("chats.jsonl", content, report)
    assert sources.eval_rows_for(str(original.path), "") == []
    train, held_out = cleaning.split_for_validation(report.rows, 0.25, seed=3)
    split = library.save_version(original, train, "split", validation_rows=held_out, split={"seed": 3})
    assert len(sources.load_rows(str(split.path))) == 15
    assert sources.eval_rows_for(str(split.path), "") == held_out and len(held_out) == 5


def test_validate_file_never_raises(tmp_path, monkeypatch):
    assert sources.validate_file(tmp_path / "absent.jsonl", model=None).problems[0].code == "no_file"
    big = tmp_path / "big.jsonl"
    big.write_bytes(lines(*map(chat_line, range(50))))
    monkeypatch.setenv("WORKBENCH_MAX_DATASET_MB", "0.001")
    report = sources.validate_file(big, model=None)
    assert report.problems[0].code == "too_large" and "WORKBENCH_MAX_DATASET_MB" in report.problems[0].message
    monkeypatch.delenv("WORKBENCH_MAX_DATASET_MB")
    report = sources.validate_file(big, model=str(tmp_path / "no-model"))
    assert report.problems[0].code == "model_unavailable" and "no-model" in report.problems[0].message


@pytest.mark.parametrize("name", sorted(path.name for path in REAL_DATASETS.glob("*.json*")))
def test_rows_of_every_real_dataset_make_a_datasets_table_as_the_trainer_builds_it(name):
    from datasets import Dataset

    rows = validation.validate((REAL_DATASETS / name).read_bytes(), name).rows
    table = Dataset.from_list(rows)
    assert len(table) == len(rows) and table[0]["messages"][0]["content"] == rows[0]["messages"][0]["content"]


def test_datasets_are_named_by_their_library_label_not_their_path(home):
    version = library.create_dataset(
        "identity.jsonl", b'{"text": "hello"}\n', validation.validate(b'{"text": "hello"}\n')
    )
    assert sources.dataset_label(str(version.path)) == "identity v1"
    assert sources.dataset_label("demo") == "the built-in demo dataset"
    assert sources.dataset_label("/srv/data/mine.jsonl") == "mine.jsonl" and sources.dataset_label("") == "none"


def test_the_preview_pages_through_records_and_searches_them(home, tmp_path):
    from workbench.data import checking

    path = tmp_path / "identity.json"
    path.write_bytes((REAL_DATASETS / "llamafactory_identity.json").read_bytes())
    first = checking.preview(path, "identity.json", None, "", 1)
    assert (first.matches, first.pages, len(first.rows)) == (91, 19, 5) and first.rows[0][0] == "record 1"
    last = checking.preview(path, "identity.json", None, "", 99)  # past the end: the last page
    assert [where for where, _ in last.rows] == ["record 91"]
    found = checking.preview(path, "identity.json", None, "OPENAI", 1)
    assert 0 < found.matches < 91 and all("openai" in json.dumps(row).lower() for _, row in found.rows)
