"""Playground feedback: a chat turned into a training example, saved as immutable versions of one library dataset."""

import pytest

from workbench.data import feedback, library, sources
from workbench.errors import UserError
from workbench.team.identity import Actor


HISTORY = [
    {"role": "user", "content": "Which city is mentioned? Ana moved to Lima."},
    {"role": "assistant", "content": "Ana", "model": "tuned"},
    {"role": "assistant", "content": "Madrid was busy.", "model": "base"},
]


def test_the_example_is_the_tuned_models_chat_with_the_corrected_answer():
    example = feedback.example_from_chat(HISTORY, "tuned", " Answer with the city. ", "Lima ")
    assert example == {
        "messages": [
            {"role": "system", "content": "Answer with the city."},
            {"role": "user", "content": "Which city is mentioned? Ana moved to Lima."},
            {"role": "assistant", "content": "Lima"},
        ]
    }


def test_nothing_to_save_and_an_empty_answer_are_refused_in_words():
    with pytest.raises(UserError, match="ask the model something first"):
        feedback.example_from_chat(HISTORY[:1], "tuned", "", "Lima")
    with pytest.raises(UserError, match="answer to save is empty"):
        feedback.example_from_chat(HISTORY, "tuned", "", "   ")


def test_each_save_is_a_new_version_holding_every_earlier_example(home):
    first = feedback.example_from_chat(HISTORY, "tuned", "", "Lima")
    v1 = feedback.save_examples([first], "first batch", actor=Actor("alice"))
    second = {
        "messages": [{"role": "user", "content": "Which city? Bo in Rome."}, {"role": "assistant", "content": "Rome"}]
    }
    v2 = feedback.save_examples([second, second], "second batch")  # a repeated example is a warning, not an error
    assert (v1.version, v1.rows, v1.owner) == (1, 1, "alice")
    assert (v2.version, v2.rows, v2.parent) == (2, 3, 1)
    assert sources.load_rows(str(v1.path)) == [first], "version 1 is unchanged"
    assert sources.load_rows(str(v2.path)) == [first, second, second]
    assert f"{feedback.FEEDBACK_NAME} v2 (3 records)" in sources.training_choices()


def test_examples_that_would_not_validate_are_not_saved(home):
    broken = {"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "Lima"}]}
    with pytest.raises(UserError, match="cannot be saved"):
        feedback.save_examples([broken], "bad")
    assert library.list_versions(feedback.FEEDBACK_NAME) == []
