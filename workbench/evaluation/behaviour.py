"""How a model answers, beside how much its answers overlap the references: its mean loss on the reference
answers' tokens and the perplexity that follows, how often it ends an answer by itself (rather than running into
the token limit), and how long its answers are against the references.

Loss is weighted by tokens (a long reference counts for more, as in training); the length is the median ratio of
words, so one rambling answer does not hide that most answers are the right length.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.evaluation.metrics import words


MAX_PERPLEXITY = 1e6  # beyond this a perplexity says only "the model does not expect these answers at all"


@dataclass(frozen=True)
class Answered:
    """One answer as generated and scored: its text, whether the model ended it, and the reference's loss."""

    text: str
    stopped: bool
    answer_tokens: int  # tokens of the reference answer the loss was taken over (0 when not measured)
    loss: float | None  # mean loss per token of the reference answer; None when the model could not read it all


@dataclass(frozen=True)
class Behaviour:
    loss: float | None
    perplexity: float | None
    stops: float  # fraction of answers the model ended by itself
    length_ratio: float | None  # median of answer words / reference words


def behaviour(answers: Sequence[Answered], references: Sequence[str]) -> Behaviour:
    measured = [answer for answer in answers if answer.loss is not None]
    tokens = sum(answer.answer_tokens for answer in measured)
    loss = sum(answer.loss * answer.answer_tokens for answer in measured) / tokens if tokens else None
    ratios = [
        len(words(answer.text)) / len(words(reference))
        for answer, reference in zip(answers, references, strict=True)
        if words(reference)
    ]
    return Behaviour(
        loss=round(loss, 4) if loss is not None and math.isfinite(loss) else None,
        perplexity=perplexity(loss),
        stops=round(sum(answer.stopped for answer in answers) / len(answers), 4) if answers else 0.0,
        length_ratio=round(statistics.median(ratios), 3) if ratios else None,
    )


def perplexity(loss: float | None) -> float | None:
    """exp(loss), capped at ``MAX_PERPLEXITY``; None without a loss."""
    if loss is None or math.isnan(loss):
        return None
    return round(MAX_PERPLEXITY if loss > math.log(MAX_PERPLEXITY) else math.exp(loss), 3)
