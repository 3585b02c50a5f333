"""Generating answers with a causal LM: greedy, batched with left padding, prompted and stopped as the rendering
contract says (``workbench.models.rendering``), so scoring asks exactly what training taught. Works for plain
transformers models and peft ``PeftModel`` wrappers alike."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from workbench.models.rendering import Rendering, stop_token_ids


GENERATION_BATCH = 16  # conversations answered at once, with left padding


def prompt_messages(conversation: Sequence[dict]) -> list[dict]:
    """The messages the model sees: all of them up to, but excluding, a final assistant turn."""
    messages = list(conversation)
    if messages and messages[-1].get("role") == "assistant":
        messages = messages[:-1]
    return messages


@contextmanager
def _left_padding(tokenizer: Any) -> Iterator[None]:
    """Temporarily switch ``tokenizer`` to left padding (needed for batched generation with decoder-only models)."""
    original = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        yield
    finally:
        tokenizer.padding_side = original


def _model_device(model: Any) -> Any:
    """The device of the model's first parameter."""
    return next(model.parameters()).device


def generate_answers(
    model: Any,
    tokenizer: Any,
    rendering: Rendering,
    conversations: list[list[dict]],
    max_new_tokens: int,
    batch_size: int = GENERATION_BATCH,
) -> list[str]:
    """Greedily generate one answer per conversation; returns each answer's text."""
    generated = generate_with_stops(model, tokenizer, rendering, conversations, max_new_tokens, batch_size)
    return [answer for answer, _ in generated]


def generate_with_stops(
    model: Any,
    tokenizer: Any,
    rendering: Rendering,
    conversations: list[list[dict]],
    max_new_tokens: int,
    batch_size: int = GENERATION_BATCH,
) -> list[tuple[str, bool]]:
    """Greedily generate one answer per conversation: (the answer's text, without its frame, end token and
    reasoning; whether the model ended it itself rather than being cut off at ``max_new_tokens``).

    The prompt is the conversation without its final assistant turn, as ``rendering.prompt`` renders it. Prompts are
    batched with left padding.
    """
    import torch

    if tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer needs a pad token for batched generation")
    prompts = [rendering.prompt(tokenizer, prompt_messages(conversation)) for conversation in conversations]
    device = _model_device(model)
    stop_ids = stop_token_ids(tokenizer, rendering, model)
    was_training = model.training
    model.eval()
    answers: list[tuple[str, bool]] = []
    try:
        with _left_padding(tokenizer), torch.inference_mode():
            for start in range(0, len(prompts), batch_size):
                batch = tokenizer(
                    prompts[start : start + batch_size],
                    return_tensors="pt",
                    padding=True,
                    add_special_tokens=False,
                ).to(device)
                output = model.generate(
                    input_ids=batch["input_ids"],
                    attention_mask=batch["attention_mask"],
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=stop_ids,
                )
                new_tokens = output[:, batch["input_ids"].shape[1] :]
                texts = [rendering.answer(tokenizer, [int(token) for token in row]) for row in new_tokens]
                stopped = torch.isin(new_tokens, torch.tensor(stop_ids, device=device)).any(dim=1).tolist()
                answers.extend(zip(texts, stopped, strict=True))
    finally:
        if was_training:
            model.train()
    return answers
