"""Tests for workbench.evaluation.metrics: each metric on hand-made answers whose scores are worked out by hand,
empty answers, and answers in scripts other than English."""

import math

import pytest
from rouge_score import rouge_scorer

from workbench.evaluation.metrics import bleu, overlap, rouge_l, token_f1, words


def test_words_are_case_folded_without_punctuation_in_any_script():
    assert words("Hello, World!") == ["hello", "world"]
    assert words("Café crème, s'il vous plaît") == ["café", "crème", "s", "il", "vous", "plaît"]
    assert words("東京に住む") == ["東", "京", "に", "住", "む"], "each CJK character is a word"
    assert words("Ｑｕｉｔｏ") == ["quito"], "full-width letters are the same letters"
    assert words("  ... ") == []


def test_token_f1_is_the_harmonic_mean_of_word_precision_and_recall():
    assert token_f1("the cat sat", "the cat sat on the mat") == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert token_f1("Quito.", "quito") == 1.0
    assert token_f1("Lima", "Quito") == 0.0
    assert token_f1("the the the", "the cat") == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5)), "clipped counts"
    assert token_f1("", "") == 1.0 and token_f1("", "Quito") == 0.0 and token_f1("Quito", "") == 0.0


def test_rouge_l_is_the_longest_common_word_subsequence_in_any_script():
    assert rouge_l("the cat sat", "the cat sat on the mat") == pytest.approx(2 / 3)  # P 3/3, R 3/6
    assert rouge_l("mat the on", "the cat sat on the mat") == pytest.approx(2 * (2 / 3) * (2 / 6) / (2 / 3 + 2 / 6))
    assert rouge_l("東京", "東京です") == pytest.approx(2 / 3)  # four characters, two in common: P 2/2, R 2/4
    default = rouge_scorer.RougeScorer(["rougeL"]).score("東京です", "東京")["rougeL"].fmeasure
    assert default == 0.0, "rouge-score's own tokeniser drops every non-ASCII word; ours does not"
    assert rouge_l("", "") == 1.0 and rouge_l("", "x") == 0.0


def test_bleu_matches_a_hand_computed_corpus_score():
    # 1- to 4-gram precisions 5/5, 3/4, 2/3, 1/2; brevity penalty exp(1 - 6/5)
    expected = math.exp(1 - 6 / 5) * (1 * 0.75 * (2 / 3) * 0.5) ** 0.25
    assert bleu(["the cat sat on mat"], ["the cat sat on the mat"]) == pytest.approx(expected, abs=1e-4)
    assert bleu(["The cat sat on the mat."], ["the cat sat on the mat"]) == pytest.approx(1.0)
    assert bleu(["Quito"], ["Quito"]) == pytest.approx(1.0), "one-word answers are scored on the orders they have"
    assert bleu(["Quito"] * 64, ["Quito"] * 64) <= 1.0, "never a rounding error above 1"
    assert bleu(["Lima"], ["Quito"]) == 0.0
    assert bleu([], []) == 0.0


def test_overlap_sums_up_a_set_of_answers():
    scores = overlap(["Quito", "Lima, Peru", ""], ["quito", "Lima", "Oslo"])
    assert scores.exact_match == pytest.approx(1 / 3)
    assert scores.f1 == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert scores.rouge_l == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert 0 < scores.bleu < 1
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        overlap(["a", "b"], ["a"])
