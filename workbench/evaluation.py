"""Answer generation and exact-match scoring for chat datasets.

Used to compare a base model with its fine-tuned version on held-out conversations: each conversation's last
assistant turn is the expected answer; the model sees everything before it (rendered with the tokenizer's chat
template and the generation prompt) and answers greedily. Works for plain transformers models and for peft
``PeftModel`` wrappers alike.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from workbench.stop_tokens import stop_token_ids


@dataclass
class EvalResult:
    """Exact-match score over ``n`` conversations, with ``(prompt, expected, predicted)`` for each one.

    ``prompt`` is the text of the last user message before the expected answer.
    """

    score: float
    n: int
    examples: list[tuple[str, str, str]] = field(default_factory=list)
    checked: int = 0  # answers whose expected text fits the length limit with room to spare...
    ran_on: int = 0  # ...and of those, how many the model did not end by itself


def prompt_messages(conversation: Sequence[dict]) -> list[dict]:
    """The messages the model sees: all of them up to, but excluding, a final assistant turn."""
    messages = list(conversation)
    if messages and messages[-1].get("role") == "assistant":
        messages = messages[:-1]
    return messages


def expected_answer(conversation: Sequence[dict]) -> str:
    """The content of the conversation's final assistant turn (``ValueError`` if it has none)."""
    if not conversation or conversation[-1].get("role") != "assistant":
        raise ValueError("each evaluation conversation must end with an assistant message (the expected answer)")
    return str(conversation[-1].get("content", ""))


def last_user_text(conversation: Sequence[dict]) -> str:
    """The content of the last user message before the answer, or ``""``."""
    for message in reversed(prompt_messages(conversation)):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


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
    conversations: list[list[dict]],
    max_new_tokens: int,
    batch_size: int = 16,
) -> list[str]:
    """Greedily generate one answer per conversation; returns the decoded new text, stripped."""
    return [answer for answer, _ in generate_with_stops(model, tokenizer, conversations, max_new_tokens, batch_size)]


def generate_with_stops(
    model: Any,
    tokenizer: Any,
    conversations: list[list[dict]],
    max_new_tokens: int,
    batch_size: int = 16,
) -> list[tuple[str, bool]]:
    """Greedily generate one answer per conversation: (decoded new text, stripped; whether the model ended it with
    its end token rather than being cut off at ``max_new_tokens``).

    The prompt is the conversation without its final assistant turn, rendered with
    ``tokenizer.apply_chat_template(..., add_generation_prompt=True)``. Prompts are batched with left padding.
    """
    import torch

    if tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer needs a pad token for batched generation")
    prompts = [
        tokenizer.apply_chat_template(prompt_messages(conversation), tokenize=False, add_generation_prompt=True)
        for conversation in conversations
    ]
    device = _model_device(model)
    stop_ids = stop_token_ids(tokenizer, model)
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
                texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                stopped = torch.isin(new_tokens, torch.tensor(stop_ids, device=device)).any(dim=1).tolist()
                answers.extend((text.strip(), ended) for text, ended in zip(texts, stopped, strict=True))
    finally:
        if was_training:
            model.train()
    return answers


_WHITESPACE = re.compile(r"\s+")


def normalise_answer(text: str) -> str:
    """Normalise an answer for comparison: strip, collapse whitespace, case-fold, drop trailing punctuation."""
    text = _WHITESPACE.sub(" ", text.strip()).casefold()
    return text.rstrip(string.punctuation + " ")


def exact_match(predictions: list[str], references: list[str]) -> float:
    """Fraction (0..1) of predictions equal to their reference after :func:`normalise_answer`; 0.0 if empty."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not references:
        return 0.0
    hits = sum(normalise_answer(p) == normalise_answer(r) for p, r in zip(predictions, references, strict=True))
    return hits / len(references)


def evaluate_exact_match(model: Any, tokenizer: Any, rows: list[dict], max_new_tokens: int) -> EvalResult:
    """Generate answers for chat ``rows`` (``{"messages": [...]}``, last turn = expected answer) and score them."""
    conversations = [list(row["messages"]) for row in rows]
    expected = [expected_answer(conversation) for conversation in conversations]
    generated = generate_with_stops(model, tokenizer, conversations, max_new_tokens)
    predicted = [answer for answer, _ in generated]
    examples = [
        (last_user_text(conversation), answer, prediction)
        for conversation, answer, prediction in zip(conversations, expected, predicted, strict=True)
    ]
    # A model that learned where answers end stops by itself; only answers short enough to end within the limit
    # say anything about that.
    short = [
        ended
        for answer, (_, ended) in zip(expected, generated, strict=True)
        if len(tokenizer(answer, add_special_tokens=False)["input_ids"]) + 2 <= max_new_tokens
    ]
    return EvalResult(
        score=exact_match(predicted, expected),
        n=len(rows),
        examples=examples,
        checked=len(short),
        ran_on=short.count(False),
    )


def side_by_side(scores: dict[str, Any]) -> list[dict[str, str]]:
    """The held-out examples of ``eval.json`` as table rows: question, expected answer, the untrained and the
    trained model's answers, and whether the trained answer counts as a match. Both scores cover the same rows in
    the same order; a question that only one of them has is shown with a blank for the other."""
    base = {prompt: predicted for prompt, _, predicted in (scores.get("base") or {}).get("examples", [])}
    rows = []
    for prompt, expected, predicted in (scores.get("tuned") or {}).get("examples", []):
        matched = normalise_answer(predicted) == normalise_answer(expected)
        rows.append(
            {
                "question": prompt,
                "expected": expected,
                "untrained": base.get(prompt, ""),
                "trained": predicted,
                "match": "yes" if matched else "no",
            }
        )
    return rows
