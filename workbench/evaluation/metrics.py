"""Text-overlap metrics of answers against their references, each a fraction from 0 to 1 over a set of answers:
exact match (``answers.exact_match``), token F1 (SQuAD's), ROUGE-L (Google's ``rouge-score``) and BLEU
(``sacrebleu``, the reference implementation).

Words are compared after the same normalisation as exact match (case, spaces and punctuation aside), and
tokenised so that any script counts: runs of letters and digits are words, and each Chinese, Japanese or Korean
character is a word of its own (those scripts put no spaces between words). ``rouge-score`` keeps only ASCII
letters by default, which scores every non-English answer 0, so it is given this tokeniser too. An empty answer
scores 1 against an empty reference and 0 against anything else.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU

from workbench.evaluation.answers import exact_match


_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


@dataclass(frozen=True)
class Overlap:
    """The four overlap metrics of one model's answers, each 0..1."""

    exact_match: float
    f1: float
    rouge_l: float
    bleu: float


def words(text: str) -> list[str]:
    """The words of ``text``, case-folded, in any script; punctuation and spaces dropped."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD's F1 of one answer: the harmonic mean of the shares of its words in the reference and of the
    reference's words in it (each word counted as often as it appears in both)."""
    predicted, expected = words(prediction), words(reference)
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


class _Words:
    """The tokeniser ``rouge-score`` is given: ``words`` above."""

    def tokenize(self, text: str) -> list[str]:
        return words(text)


_ROUGE = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_Words())


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure of one answer: its longest common word subsequence with the reference."""
    if not words(prediction) or not words(reference):
        return float(words(prediction) == words(reference))
    return _ROUGE.score(reference, prediction)["rougeL"].fmeasure


def bleu(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (0..1) over the answers, on the same words as the other metrics. Orders of n-grams that no
    answer is long enough to have are left out (sacrebleu's effective order), so one-word answers score too."""
    _check_lengths(predictions, references)
    if not references:
        return 0.0
    joined = [" ".join(words(text)) for text in predictions], [" ".join(words(text)) for text in references]
    scorer = BLEU(tokenize="none", effective_order=True)
    return min(1.0, scorer.corpus_score(joined[0], [joined[1]]).score / 100)  # 100.00000000000004 happens


def overlap(predictions: Sequence[str], references: Sequence[str]) -> Overlap:
    """Exact match, mean token F1, mean ROUGE-L and corpus BLEU of ``predictions`` against ``references``."""
    _check_lengths(predictions, references)
    pairs = list(zip(predictions, references, strict=True))
    return Overlap(
        exact_match=exact_match(list(predictions), list(references)),
        f1=_mean([token_f1(prediction, reference) for prediction, reference in pairs]),
        rouge_l=_mean([rouge_l(prediction, reference) for prediction, reference in pairs]),
        bleu=bleu(predictions, references),
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _check_lengths(predictions: Sequence[str], references: Sequence[str]) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
