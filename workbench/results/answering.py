"""One evaluation answer through the model server: the model answers a conversation greedily (as the scores taken
in training do), the reference answer's token loss under the same model is measured, and the answer is kept as a
row of the evaluation file beside its scores against the reference."""

from typing import Any

from workbench.errors import UserError
from workbench.evaluation.answers import last_user_text, normalise_answer
from workbench.evaluation.behaviour import Answered
from workbench.evaluation.metrics import rouge_l, token_f1
from workbench.models.generation import prompt_messages
from workbench.models.rendering import strip_reasoning
from workbench.runs.directory import Run
from workbench.serving import client, process


def asked_messages(conversation: list[dict]) -> list[dict[str, str]]:
    """The messages a model is asked with: the conversation up to its answer, as plain role and content."""
    asked = prompt_messages(conversation)
    return [{"role": turn["role"], "content": str(turn.get("content") or "")} for turn in asked]


def answer(
    address: process.Address, model: str, conversation: list[dict], reference: str, run: Run, base: bool
) -> Answered:
    """``model``'s answer to ``conversation`` (as long as the run's ``max_new_tokens_eval``) and the loss of the
    ``reference`` answer under it; a base model renders reasoning as the run does."""
    extra = {"reasoning": run.config.reasoning} if base and run.config.reasoning else {}
    asked, endings = asked_messages(conversation), []
    pieces = client.stream_chat(
        address,
        model,
        asked,
        on_finish=endings.append,
        max_tokens=run.config.max_new_tokens_eval,
        temperature=0.0,
        seed=0,
        **extra,
    )
    text = strip_reasoning("".join(pieces)).strip()
    return Answered(text, endings[-1:] == ["stop"], *_reference_loss(address, model, asked, reference, extra))


def _reference_loss(
    address: process.Address, model: str, asked: list[dict], reference: str, extra: dict[str, Any]
) -> tuple[int, float | None]:
    """(tokens, mean loss) of the reference answer; (0, None) when the model cannot read the whole conversation
    (longer than its context), so one long example leaves its loss unmeasured instead of ending the evaluation."""
    scored = [*asked, {"role": "assistant", "content": reference}]
    try:
        tokens, loss = client.answer_loss(address, model, scored, **extra)
    except client.ServerGone:
        raise
    except UserError:
        return 0, None
    return tokens, round(loss, 4)


def example_row(conversation: list[dict], reference: str, answers: dict[str, Answered]) -> dict[str, Any]:
    """The evaluation file's row of one conversation: the question, the reference, and per model (``base``,
    ``tuned``) the answer, whether it matches, its token F1 and ROUGE-L, whether it stopped, the reference's loss."""
    row: dict[str, Any] = {
        "question": last_user_text(conversation),
        "expected": reference,
        "prompt": asked_messages(conversation),
    }
    for name, given in answers.items():
        row[name] = given.text
        row[f"{name}_match"] = normalise_answer(given.text) == normalise_answer(reference)
        row[f"{name}_f1"] = round(token_f1(given.text, reference), 4)
        row[f"{name}_rouge_l"] = round(rouge_l(given.text, reference), 4)
        row[f"{name}_stopped"] = given.stopped
        row[f"{name}_answer_tokens"] = given.answer_tokens
        row[f"{name}_loss"] = given.loss
    return row


def answered(row: dict[str, Any], name: str) -> Answered | None:
    """The answer of model ``name`` kept in an evaluation file's row, or None when the row lacks any part of it
    (a file written before the loss was measured)."""
    text, stopped, tokens, loss = (
        row.get(key) for key in (name, f"{name}_stopped", f"{name}_answer_tokens", f"{name}_loss")
    )
    if not (
        isinstance(text, str)
        and isinstance(stopped, bool)
        and isinstance(tokens, int)
        and isinstance(loss, int | float)
    ):
        return None
    return Answered(text, stopped, tokens, float(loss))
