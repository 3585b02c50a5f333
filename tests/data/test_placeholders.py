"""Tests for workbench.data.placeholders: which {{names}} a dataset holds, and filling them in."""

import json

from conftest import REAL_DATASETS

from workbench.data import placeholders, validation


def identity_rows() -> list[dict]:
    return validation.validate((REAL_DATASETS / "llamafactory_identity.json").read_bytes(), "identity.json").rows


def test_the_identity_set_holds_name_and_author_counted_per_record():
    assert placeholders.found_in(identity_rows()) == {"name": 77, "author": 60}


def test_filling_replaces_only_the_names_given_and_leaves_the_rows_alone():
    rows = identity_rows()
    before = json.dumps(rows)
    filled = placeholders.fill(rows, {"name": "  Aria ", "author": ""})
    assert json.dumps(rows) == before, "the input rows are not changed"
    assert placeholders.found_in(filled) == {"author": 60}
    assert "I am Aria," in json.dumps(filled) and placeholders.fill(rows, {}) is rows
    assert placeholders.fill_note({"name": "Aria", "author": " "}) == "Filled in {{name}} = 'Aria'."


def test_a_value_is_bounded_and_text_rows_are_filled_too():
    [row] = placeholders.fill([{"text": "Hi {{ name }}!"}], {"name": "x" * 1000})
    assert row["text"] == "Hi " + "x" * placeholders.MAX_VALUE_CHARS + "!"
