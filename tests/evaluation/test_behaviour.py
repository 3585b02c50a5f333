"""Tests for workbench.evaluation.behaviour on hand-made answers with known values."""

import math

import pytest

from workbench.evaluation.behaviour import MAX_PERPLEXITY, Answered, behaviour, perplexity


def test_loss_is_weighted_by_tokens_and_perplexity_follows_it():
    answers = [Answered("Paris", True, answer_tokens=1, loss=3.0), Answered("Rome", False, answer_tokens=3, loss=1.0)]
    measured = behaviour(answers, ["Paris", "Rome"])
    assert measured.loss == pytest.approx((3.0 + 3 * 1.0) / 4)
    assert measured.perplexity == pytest.approx(math.exp(1.5), abs=1e-3)
    assert measured.stops == 0.5


def test_length_is_the_median_ratio_of_words_and_empty_references_are_left_out():
    answers = [Answered(text, True, 1, 0.1) for text in ("a b", "a b c d e f", "a", "anything")]
    measured = behaviour(answers, ["a", "a b", "a", ""])
    assert measured.length_ratio == 2.0, "ratios 2, 3 and 1: the median is 2; the empty reference is not counted"
    assert behaviour([], []).length_ratio is None and behaviour([], []).loss is None


def test_a_hopeless_loss_caps_the_perplexity_and_none_stays_none():
    assert perplexity(100.0) == MAX_PERPLEXITY
    assert perplexity(0.0) == 1.0
    assert perplexity(None) is None and perplexity(float("nan")) is None
    assert behaviour([Answered("x", True, 2, float("inf"))], ["x"]).loss is None


def test_an_answer_whose_loss_was_not_measured_is_left_out_of_the_mean_but_not_of_the_rest():
    answers = [Answered("Paris", True, 2, 0.5), Answered("a very long answer", False, 0, None)]
    measured = behaviour(answers, ["Paris", "a very long answer"])
    assert measured.loss == 0.5 and measured.stops == 0.5 and measured.length_ratio == 1.0
    assert behaviour([Answered("x", True, 0, None)], ["x"]).loss is None
