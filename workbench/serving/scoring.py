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

    if messages[-1]["role"] != "assistant":
        raise UserError("The last message must be the assistant's answer to score; end 'messages' with it.")
    encoded = encode(rendering, tokenizer, {"messages": messages})
    limit = min(MAX_SCORED_TOKENS, getattr(model.config, "max_position_embeddings", None) or MAX_SCORED_TOKENS)
    if len(encoded.input_ids) > limit:
        raise UserError(f"The conversation is longer than the {limit} tokens the model reads; score a shorter one.")
    labels = last_answer_only(encoded.labels)
    counted = sum(label != IGNORED for label in labels)
    if not counted:
        raise UserError("The answer could not be placed in the model's chat template, so it cannot be scored.")
    device = next(model.parameters()).device
    with torch.no_grad():
        output = model(
            input_ids=torch.tensor([encoded.input_ids], device=device), labels=torch.tensor([labels], device=device)
        )
    loss = float(output.loss)
    return counted, loss if math.isfinite(loss) else float("inf")


def last_answer_only(labels: list[int]) -> list[int]:
    """The labels with every answer but the last one ignored."""
    end = max((index for index, label in enumerate(labels) if label != IGNORED), default=-1)
    start = end
    while start > 0 and labels[start - 1] != IGNORED:
        start -= 1
    return [label if start <= index <= end else IGNORED for index, label in enumerate(labels)]
