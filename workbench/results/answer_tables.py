"""The held-out scores and answers as a person reads them: each metric untrained and trained, the two models'
answers side by side, the answers given at one step of training, each marked as a match or not, and an answer's
words against the reference's."""

import difflib
import html
from dataclasses import dataclass

from workbench.evaluation.answers import normalise_answer
from workbench.runs.held_out_scores import Scores


@dataclass(frozen=True)
class MetricRow:
    """One held-out metric of a run: its label, what it measures in a sentence, and its two values (0..1)."""

    label: str
    meaning: str
    untrained: float | None
    trained: float | None


METRICS = (  # (field of Score, label, what it measures)
    ("exact_match", "Exact match", "Answers equal to the expected one, case, spaces and end punctuation aside."),
    ("f1", "Token F1", "Words shared with the expected answer: the balance of precision and recall (SQuAD's F1)."),
    ("rouge_l", "ROUGE-L", "The longest run of the expected answer's words, in order, that the answer contains."),
    ("bleu", "BLEU", "Word sequences (1 to 4 words) shared with the expected answers, over the whole set."),
)


def metric_rows(scores: Scores) -> list[MetricRow]:
    """Every held-out metric with the untrained and the trained value (None where a model was not scored, or was
    scored before the metric existed)."""
    return [
        MetricRow(label, meaning, _value(scores.base, field), _value(scores.tuned, field))
        for field, label, meaning in METRICS
    ]


def metrics_sentence(scores: Scores) -> str:
    """'Exact match 0% -> 100%, Token F1 4% -> 100%, ...': each metric the trained model has, from the untrained
    base's value ('?' where it was not measured) to the trained one."""
    parts = []
    for row in metric_rows(scores):
        if row.trained is not None:
            before = "?" if row.untrained is None else f"{row.untrained:.0%}"
            parts.append(f"{row.label} {before} -> {row.trained:.0%}")
    return ", ".join(parts)


def _value(score: object, field: str) -> float | None:
    return getattr(score, field) if score is not None else None


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


def word_diff(answer: str, reference: str) -> list[tuple[str, str]]:
    """The answer against the reference, word by word, as (kind, text) pieces: "same" words both have, "missing"
    words only the reference has, "extra" words only the answer has, in reading order."""
    given, expected = answer.split(), reference.split()
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=expected, b=given, autojunk=False)
    for tag, start, end, given_start, given_end in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(("same", " ".join(expected[start:end])))
            continue
        if end > start:
            pieces.append(("missing", " ".join(expected[start:end])))
        if given_end > given_start:
            pieces.append(("extra", " ".join(given[given_start:given_end])))
    return pieces


def diff_html(pieces: list[tuple[str, str]]) -> str:
    """The pieces of ``word_diff`` as HTML: missing words struck through in red, extra words in green."""
    styles = {
        "same": "",
        "missing": "background:#fee2e2;color:#991b1b;text-decoration:line-through",
        "extra": "background:#dcfce7;color:#166534",
    }
    spans = [f'<span style="{styles[kind]}">{html.escape(text)}</span>' for kind, text in pieces]
    return f'<div style="line-height:1.8">{" ".join(spans)}</div>'
