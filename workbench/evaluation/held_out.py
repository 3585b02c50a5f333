"""Scoring a model on held-out conversations: greedy answers to each one's question, compared with its last
assistant turn (exact match, token F1, ROUGE-L, BLEU), and whether the model ended its answers by itself."""

from typing import Any

from workbench import schedule
from workbench.config import RunConfig
from workbench.data import sources
from workbench.evaluation.answers import expected_answer, last_user_text
from workbench.evaluation.metrics import overlap
from workbench.models.generation import generate_with_stops
from workbench.models.rendering import Rendering
from workbench.runs.held_out_scores import Score


MAX_SCORED_ROWS = 100  # held-out conversations scored per model; enough for a percentage, cheap enough to repeat
EXAMPLES_KEPT = 20  # (question, expected, answer) triples kept with the score for the page's side-by-side table


def split_rows(config: RunConfig) -> tuple[list[dict], list[dict], bool]:
    """The run's training rows and held-out rows, and whether the held-out rows came from elsewhere (an evaluation
    file, the demo's or a library version's own split) rather than from splitting the training rows."""
    train_rows = sources.load_rows(config.dataset)
    eval_rows = sources.eval_rows_for(config.dataset, config.eval_dataset)
    if eval_rows:
        return train_rows, eval_rows, True
    train_rows, eval_rows = schedule.split_rows(train_rows, config.validation_fraction, config.seed)
    return train_rows, eval_rows, False


def answerable(rows: list[dict]) -> list[dict]:
    """The chat rows that end with an answer to compare against (plain-text rows and open questions have none)."""
    return [row for row in rows if row.get("messages") and row["messages"][-1].get("role") == "assistant"]


def score_answers(model: Any, tokenizer: Any, rendering: Rendering, rows: list[dict], max_new_tokens: int) -> Score:
    """Answer the first ``MAX_SCORED_ROWS`` chat ``rows`` (``{"messages": [...]}``, last turn = expected answer) as
    the rendering contract prompts them, and score them; answers and references are compared without reasoning."""
    conversations = [list(row["messages"]) for row in rows[:MAX_SCORED_ROWS]]
    expected = [expected_answer(conversation) for conversation in conversations]
    generated = generate_with_stops(model, tokenizer, rendering, conversations, max_new_tokens)
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
    scores = overlap(predicted, expected)
    return Score(
        exact_match=scores.exact_match,
        f1=scores.f1,
        rouge_l=scores.rouge_l,
        bleu=scores.bleu,
        n=len(conversations),
        checked=len(short),
        ran_on=short.count(False),
        examples=tuple(examples[:EXAMPLES_KEPT]),
    )
