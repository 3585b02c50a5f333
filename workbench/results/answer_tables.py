"""The held-out answers as tables a person reads: the untrained and the trained model's answers side by side, and
the answers given at one step of training, each marked as a match or not."""

from workbench.evaluation.answers import normalise_answer
from workbench.runs.directory import Scores


def side_by_side(scores: Scores) -> list[dict[str, str]]:
    """Question, expected answer, the untrained and the trained model's answers, and whether the trained answer
    counts as a match. Both scores cover the same rows in the same order; a question that only one of them has is
    shown with a blank for the other."""
    base = {prompt: predicted for prompt, _, predicted in (scores.base.examples if scores.base else ())}
    rows = []
    for prompt, expected, predicted in scores.tuned.examples if scores.tuned else ():
        rows.append(
            {
                "question": prompt,
                "expected": expected,
                "untrained": base.get(prompt, ""),
                "trained": predicted,
                "match": _match(predicted, expected),
            }
        )
    return rows


def answers_at(questions: list[dict[str, str]], answers: list[str]) -> list[dict[str, str]]:
    """Each followed question, its expected answer, the answer given at one step, and whether it matches."""
    return [
        {**question, "answer": answer, "match": _match(answer, question["expected"])}
        for question, answer in zip(questions, answers, strict=True)
    ]


def _match(answer: str, expected: str) -> str:
    return "yes" if normalise_answer(answer) == normalise_answer(expected) else "no"
