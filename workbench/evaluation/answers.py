"""Held-out answers as text: the expected answer of a conversation, its question, and whether two answers match.

Each held-out conversation's last assistant turn is the expected answer; ``normalise_answer`` decides what counts
as the same answer (case, spaces and trailing punctuation aside), everywhere an answer is scored or marked.
"""

import re
import string
from collections.abc import Sequence

from workbench.models.generation import prompt_messages
from workbench.models.rendering import strip_reasoning


def expected_answer(conversation: Sequence[dict]) -> str:
    """The content of the conversation's final assistant turn without its reasoning (``ValueError`` if it has none)."""
    if not conversation or conversation[-1].get("role") != "assistant":
        raise ValueError("each evaluation conversation must end with an assistant message (the expected answer)")
    return strip_reasoning(str(conversation[-1].get("content", "")))


def last_user_text(conversation: Sequence[dict]) -> str:
    """The content of the last user message before the answer, or ``""``."""
    for message in reversed(prompt_messages(conversation)):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


_WHITESPACE = re.compile(r"\s+")


def normalise_answer(text: str) -> str:
    """Normalise an answer for comparison: strip, collapse whitespace, case-fold, drop trailing punctuation."""
    text = _WHITESPACE.sub(" ", text.strip()).casefold()
    return text.rstrip(string.punctuation + " ")


def exact_match(predictions: list[str], references: list[str]) -> float:
    """Fraction (0..1) of predictions equal to their reference after ``normalise_answer``; 0.0 if empty."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not references:
        return 0.0
    hits = sum(normalise_answer(p) == normalise_answer(r) for p, r in zip(predictions, references, strict=True))
    return hits / len(references)
