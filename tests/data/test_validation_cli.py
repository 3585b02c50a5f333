"""`workbench data validate`, run as a real subprocess: the JSON contract and the exit codes 0, 1 and 2."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REAL_DATASETS
from tiny_tokenizers import tokenizer_folder


ROOT = Path(__file__).resolve().parents[2]
KEYS = {"problem_counts", "ok", "format", "total", "rows", "duplicates", "too_long", "problems"}
PROBLEM_KEYS = {"line", "row", "severity", "code", "message"}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tokenizer_folder(tmp_path_factory.mktemp("tiny-model"))


def validate(home: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    command = [sys.executable, "-m", "workbench.cli", "data", "validate", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    return result.returncode, result.stdout, result.stderr


def test_json_contract_on_the_flawed_openai_file(home, tiny_model):
    code, out, err = validate(
        home, str(REAL_DATASETS / "openai_toy_chat_fine_tuning.jsonl"), "--model", str(tiny_model), "--json"
    )
    result = json.loads(out)
    assert code == 1 and "Traceback" not in err
    assert set(result) == KEYS and all(set(problem) == PROBLEM_KEYS for problem in result["problems"])
    assert (result["ok"], result["format"], result["total"], result["rows"]) == (False, "messages", 5, 4)
    assert (result["duplicates"], result["too_long"]) == (0, 1)
    found = [(p["line"], p["row"], p["severity"], p["code"]) for p in result["problems"]]
    assert found == [
        (4, 4, "error", "no_user"),
        (5, 5, "warning", "too_long"),
        (None, None, "warning", "few_rows"),
        (None, None, "warning", "too_long"),
    ]


def test_max_length_changes_what_counts_as_too_long(home, tiny_model):
    file = str(REAL_DATASETS / "openai_toy_chat_fine_tuning.jsonl")
    code, out, _ = validate(home, file, "--model", str(tiny_model), "--max-length", "131072", "--json")
    assert code == 1 and json.loads(out)["too_long"] == 0


def test_records_of_a_json_file_have_no_line_but_a_record_number(home, tiny_model):
    file = str(REAL_DATASETS / "llamafactory_identity.json")
    code, out, _ = validate(home, file, "--model", str(tiny_model), "--max-length", "4096", "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["format"] == "alpaca" and result["rows"] == 91
    first = result["problems"][0]
    assert (first["line"], first["row"], first["code"], first["severity"]) == (None, 1, "placeholder", "warning")


def test_exit_code_2_when_the_file_cannot_be_used(home, tmp_path, tiny_model):
    binary = tmp_path / "photo.jsonl"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    code, out, _ = validate(home, str(binary), "--model", str(tiny_model), "--json")
    result = json.loads(out)
    assert code == 2 and result["format"] is None and result["rows"] == 0
    assert result["problems"][0]["code"] == "binary_file"
    code, out, _ = validate(home, str(tmp_path / "absent.jsonl"), "--json")
    assert code == 2 and json.loads(out)["problems"][0]["code"] == "no_file"
    code, out, err = validate(home, str(binary), "--model", str(tmp_path / "nowhere"))
    assert code == 2 and "There is no model folder with a config.json at" in out and "Traceback" not in out + err


def test_plain_output_is_readable(home, tiny_model):
    code, out, _ = validate(home, str(REAL_DATASETS / "openai_toy_chat_fine_tuning.jsonl"), "--model", str(tiny_model))
    assert code == 1
    summary = "4 of 5 records are usable; 1 has errors. Fix them in the file and upload it again, or save a cleaned "
    assert out.splitlines()[:3] == [
        summary + "version without them.",
        "Read as OpenAI chat messages in a JSONL file: 5 records, 4 usable.",
        "  error: Line 4: The conversation has no user turn, so the answer replies to nothing.",
    ]


def test_without_model_the_demo_tokenizer_is_used(demo_home):
    code, out, _ = validate(demo_home, str(REAL_DATASETS / "llamafactory_alpaca_en_demo.json"), "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["duplicates"] == 14
    assert result["too_long"] > 0, "the demo model's small vocabulary makes long answers long in tokens"


def test_only_warnings_exit_0_and_a_column_mapping_can_be_given(home, tmp_path, tiny_model):
    code, out, _ = validate(home, str(REAL_DATASETS / "llamafactory_identity.json"), "--model", str(tiny_model))
    assert code == 0 and "warning" in out, "unfilled placeholders warn, every record is usable"
    table = tmp_path / "faq.csv"
    table.write_text("question,reply\nWhat is 2+2?,4\nCapital of France?,Paris\n", encoding="utf-8")
    code, out, _ = validate(home, str(table), "--model", str(tiny_model), "--json")
    assert code == 2 and any(problem["code"] == "unknown_format" for problem in json.loads(out)["problems"])
    mapped = ("--map", "prompt=question", "--map", "completion=reply")
    code, out, _ = validate(home, str(table), "--model", str(tiny_model), *mapped, "--json")
    assert code == 0 and json.loads(out)["rows"] == 2
    code, _, err = validate(home, str(table), "--map", "prompt=question")
    assert code == 2 and "--map needs both prompt= and completion=" in err
