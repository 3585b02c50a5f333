"""Scoring a given answer instead of generating one: the mean loss (negative log-likelihood per token) of a
conversation's last answer under a model, with the prompt rendered as training renders it, so that evaluation can
report the answer-token loss and perplexity of the untrained base and the trained model on the same references."""

import math
from typing import Any

from workbench.errors import UserError
from workbench.models.rendering import encode


MAX_SCORED_TOKENS = 8192  # one forward pass over the whole conversation: bounded like any other input
IGNORED = -100


def answer_loss(model: Any, tokenizer: Any, rendering: Any, messages: list[dict[str, str]]) -> tuple[int, float]:
    """(answer tokens, mean loss per answer token) of the last message, which must be the assistant's."""
    import torch

    limit = getattr(model.config, "max_position_embeddings", None) or MAX_SCORED_TOKENS
    input_ids, labels = scored_tokens(tokenizer, rendering, messages, limit)
    device = next(model.parameters()).device
    tokens, answer = torch.tensor([input_ids], device=device), torch.tensor([labels], device=device)
    with torch.no_grad():
        output = model(input_ids=tokens, labels=answer)
    return counted(labels), finite(float(output.loss))


def scored_tokens(
    tokenizer: Any, rendering: Any, messages: list[dict[str, str]], model_limit: int
) -> tuple[list[int], list[int]]:
    """The conversation's tokens as training renders them, and labels that count only its last answer; a
    UserError when the last message is not an answer, the conversation is too long, or the answer has no place."""
    if messages[-1]["role"] != "assistant":
        raise UserError("The last message must be the assistant's answer to score; end 'messages' with it.")
    encoded = encode(rendering, tokenizer, {"messages": messages})
    limit = min(MAX_SCORED_TOKENS, model_limit)
    if len(encoded.input_ids) > limit:
        raise UserError(f"The conversation is longer than the {limit} tokens the model reads; score a shorter one.")
    labels = last_answer_only(encoded.labels)
    if not counted(labels):
        raise UserError("The answer could not be placed in the model's chat template, so it cannot be scored.")
    return list(encoded.input_ids), labels


def counted(labels: list[int]) -> int:
    return sum(label != IGNORED for label in labels)


def finite(loss: float) -> float:
    return loss if math.isfinite(loss) else float("inf")


def last_answer_only(labels: list[int]) -> list[int]:
    """The labels with every answer but the last one ignored."""
    end = max((index for index, label in enumerate(labels) if label != IGNORED), default=-1)
    start = end
    while start > 0 and labels[start - 1] != IGNORED:
        start -= 1
    return [label if start <= index <= end else IGNORED for index, label in enumerate(labels)]
