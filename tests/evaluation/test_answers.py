"""Tests for workbench.evaluation.answers: what counts as the same answer, and exact match."""

import pytest

from workbench.evaluation.answers import exact_match, expected_answer, last_user_text, normalise_answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Porto ", "porto"),
        ("Porto.", "porto"),
        ("PORTO!?", "porto"),
        ("New   York\n City", "new york city"),
        ("São Paulo", "são paulo"),
        ("Straße", "strasse"),
        ("3.5", "3.5"),
        ("...", ""),
        ("", ""),
    ],
)
def test_normalise_answer(text, expected):
    assert normalise_answer(text) == expected


def test_exact_match_counts_normalised_equality():
    assert exact_match(["Porto.", "lisbon", "Paris is nice"], ["Porto", "Lisbon", "Paris"]) == pytest.approx(2 / 3)
    assert exact_match(["a"], ["a"]) == 1.0
    assert exact_match(["a"], ["b"]) == 0.0
    assert exact_match([], []) == 0.0


def test_exact_match_rejects_lists_of_different_lengths():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        exact_match(["a", "b"], ["a"])


def test_the_expected_answer_is_the_last_assistant_turn_and_the_question_the_last_user_turn():
    conversation = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Which city? Ana in Oslo."},
        {"role": "assistant", "content": "Oslo"},
    ]
    assert (expected_answer(conversation), last_user_text(conversation)) == ("Oslo", "Which city? Ana in Oslo.")
    with pytest.raises(ValueError, match="must end with an assistant message"):
        expected_answer(conversation[:2])
