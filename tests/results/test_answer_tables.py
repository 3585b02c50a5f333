"""Tests for workbench.results.answer_tables: the held-out answers as tables people read."""

from workbench.results.answer_tables import answers_at, side_by_side
from workbench.runs.directory import Score, Scores


def test_side_by_side_pairs_each_question_with_both_answers():
    base = Score(
        0.0, 2, examples=(("Which city? Ana in Oslo.", "Oslo", "Madrid"), ("Which city? Bo in Rome.", "Rome", "x"))
    )
    tuned = Score(
        0.5, 2, examples=(("Which city? Ana in Oslo.", "Oslo", "oslo."), ("Which city? Bo in Rome.", "Rome", "Paris"))
    )
    scores = Scores(base, tuned)
    rows = side_by_side(scores)
    assert rows[0] == {
        "question": "Which city? Ana in Oslo.",
        "expected": "Oslo",
        "untrained": "Madrid",
        "trained": "oslo.",
        "match": "yes",
    }
    assert (rows[1]["untrained"], rows[1]["match"]) == ("x", "no")
    assert side_by_side(Scores(base, None)) == []


def test_answers_at_one_step_are_marked_by_the_same_rule_as_the_score():
    questions = [{"question": "Which city? Ana in Oslo.", "expected": "Oslo"}]
    assert answers_at(questions, [" oslo. "])[0]["match"] == "yes"
    assert answers_at(questions, ["Ana"])[0]["match"] == "no"
