"""Tests for workbench.results.answer_tables: the held-out answers as tables people read."""

from workbench.results import answer_tables
from workbench.results.answer_tables import answers_at, metric_rows, metrics_sentence, side_by_side
from workbench.runs.held_out_scores import Score, Scores


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


def test_metric_rows_give_each_metric_untrained_and_trained_and_old_runs_keep_their_exact_match():
    scores = Scores(Score(0.0, 4, f1=0.25, rouge_l=0.2, bleu=0.0), Score(0.75, 4, f1=0.8, rouge_l=0.85, bleu=0.5))
    rows = metric_rows(scores)
    assert [(row.label, row.untrained, row.trained) for row in rows] == [
        ("Exact match", 0.0, 0.75), ("Token F1", 0.25, 0.8), ("ROUGE-L", 0.2, 0.85), ("BLEU", 0.0, 0.5),
    ]  # fmt: skip
    assert metrics_sentence(scores) == "Exact match 0% -> 75%, Token F1 25% -> 80%, ROUGE-L 20% -> 85%, BLEU 0% -> 50%"
    old = Scores(None, Score.from_dict({"exact_match": 0.5, "n": 4, "f1": "bad", "bleu": 7}))  # scored long ago
    assert metrics_sentence(old) == "Exact match ? -> 50%", "metrics the run lacks (or that are broken) are left out"


def test_an_answer_is_diffed_against_its_reference_word_by_word():
    pieces = answer_tables.word_diff("The capital is Lyon today", "The capital is Paris")
    assert pieces == [("same", "The capital is"), ("missing", "Paris"), ("extra", "Lyon today")]
    assert answer_tables.word_diff("", "Paris") == [("missing", "Paris")]
    assert answer_tables.word_diff("東京 です", "東京 です") == [("same", "東京 です")]
    shown = answer_tables.diff_html(answer_tables.word_diff("<b>x</b>", "y"))
    assert "&lt;b&gt;x&lt;/b&gt;" in shown and "<b>" not in shown, "answers are escaped, never drawn as HTML"
