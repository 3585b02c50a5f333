"""Tests for workbench.mapping: column-name suggestions and how a confirmed mapping renames a record's fields."""

import pytest

from workbench.data.mapping import ColumnMapping, suggest_mapping


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["Question", "Answer"], ColumnMapping("Question", "Answer")),
        (["query", "response", "system_prompt"], ColumnMapping("query", "response", "system_prompt")),
        (["input", "output"], ColumnMapping("input", "output")),
        (["id", "body"], ColumnMapping(text="body")),
        (["a", "b"], None),
    ],
)
def test_suggest_mapping(columns, expected):
    assert suggest_mapping(columns) == expected


def test_mapping_renames_fields_and_knows_when_it_is_complete():
    mapping = ColumnMapping(prompt="Frage", completion="Antwort", system="Rolle")
    assert mapping.apply({"Frage": "a", "Antwort": "b", "Rolle": " ", "x": 1}) == {"prompt": "a", "completion": "b"}
    assert mapping.complete and mapping.format == "prompt_completion"
    assert ColumnMapping.from_dict(mapping.to_dict()) == mapping
    assert not ColumnMapping(prompt="a", completion="a").complete
    assert ColumnMapping(text="body").apply({"body": "t"}) == {"text": "t"}
    assert ColumnMapping.from_dict(None) is None
