"""An optional judge of a run's saved evaluation: a local model the server can load (a base model or a finished run)
reads each question, its reference answer and one answer at a time, the untrained base's and the trained model's,
and scores it from 1 to 10 against a rubric the user writes. The result is saved with the run (``judgement.json``)
for the Runs page and ``workbench judge``.

A judge's score is a model's opinion, not a measurement: every score is kept beside the prompt the judge was given
and the judge's raw output, so a person can read why, and an output without a readable score counts as "no score"
rather than as a guess. The judge answers greedily (temperature 0, seed 0) and briefly, so judging the same answers
again with the same judge and rubric gives the same scores on the same machine.
"""

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.data.uploads import write_atomically
from workbench.errors import UserError, disk_space
from workbench.jobs import control
from workbench.models.rendering import strip_reasoning
from workbench.results import evaluate
from workbench.runs import directory
from workbench.runs.directory import Run
from workbench.serving import catalogue, client, process
from workbench.team import access
from workbench.team.identity import Actor


JUDGEMENT_FILE = "judgement.json"
MAX_RUBRIC_CHARS = 2000
MAX_FIELD_CHARS = 4000  # of a question, reference or answer shown to the judge; longer ones are cut
JUDGE_MAX_TOKENS = 96  # enough for "Score: N" and a sentence of reasons
SIDES = {"tuned": "trained", "base": "untrained"}
DEFAULT_RUBRIC = (
    "10: the answer says what the reference answer says, correctly and completely, with nothing wrong added.\n"
    "7: mostly right, with a small omission or an unneeded extra.\n"
    "4: partly right, or right but buried in wrong or irrelevant text.\n"
    "1: wrong, off topic, empty or not an answer to the question."
)
SYSTEM_PROMPT = (
    "You grade answers to questions. Compare the answer with the reference answer and follow the rubric. "
    "Reply with 'Score: N', where N is a whole number from 1 (worst) to 10 (best), then one sentence saying why."
)
_LABELLED = re.compile(r"\bscore\**\s*(?:[:=]|is)?\s*\**\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_OUT_OF_TEN = re.compile(r"(?<![\d.\-])(\d+(?:\.\d+)?)\s*(?:/|out of)\s*10\b", re.IGNORECASE)
_LONE = re.compile(r"^\W*?(-?\d+(?:\.\d+)?)\W*$")


@dataclass(frozen=True)
class Judgement:
    """The scores ``judge`` gave every answer of a run's evaluation against ``rubric``. Each example holds the
    question, the reference answer and, under "tuned" and "base", the answer, its score (1..10, or None when the
    judge's output had none), the judge's prompt (messages) and its raw output."""

    judge: str
    rubric: str
    source: str  # the evaluation's: "the held-out split" or the test file's name
    n: int
    examples: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def scores(self, side: str) -> list[float]:
        """The readable scores the judge gave the "tuned" or the "base" answers."""
        return [row[side]["score"] for row in self.examples if row[side]["score"] is not None]

    def average(self, side: str) -> float | None:
        given = self.scores(side)
        return sum(given) / len(given) if given else None

    @property
    def unscored(self) -> int:
        """How many answers the judge gave no readable score."""
        return sum(row[side]["score"] is None for row in self.examples for side in SIDES)


def judge(
    run_id: str,
    judge_model: str,
    rubric: str,
    actor: Actor | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Judgement:
    """Have ``judge_model`` (one ``actor`` may use) score the trained and the untrained answers of the saved
    evaluation of the run ``run_id`` (one ``actor`` may see) against ``rubric``, save the judgement with the run and
    return it; ``progress`` hears (answers judged, answers in all)."""
    control.check_see_run(actor, run_id)
    rubric = check_rubric(rubric)
    run = directory.get_run(run_id)
    evaluation = check_evaluated(run)
    served = catalogue.find(judge_model.strip(), access.acting(actor))
    started = time.monotonic()
    address = process.ensure_server()
    examples: list[dict[str, Any]] = []
    done, total = 0, len(evaluation.examples) * len(SIDES)
    for row in evaluation.examples:
        judged: dict[str, Any] = {"question": row["question"], "expected": row["expected"]}
        for side in SIDES:
            judged[side] = _judged_answer(address, served.id, rubric, row, side)
            done += 1
            progress(done, total)
        examples.append(judged)
    judgement = Judgement(
        judge=served.id,
        rubric=rubric,
        source=evaluation.source,
        n=len(examples),
        examples=examples,
        seconds=round(time.monotonic() - started, 1),
    )
    _save(run, judgement)
    return judgement


def check_evaluated(run: Run) -> evaluate.Evaluation:
    """The evaluation of the model the run answers with now, or a UserError when there is none to judge."""
    evaluation = evaluate.current_evaluation(run)
    if evaluation is None:
        raise UserError(
            f"Evaluate the run first; the run {run.run_id} has no saved evaluation to judge (the Runs page's Evaluate "
            f"now, or workbench eval {run.run_id})."
        )
    return evaluation


def check_rubric(rubric: str) -> str:
    """The rubric without surrounding blanks, or a UserError when it is empty or too long."""
    rubric = rubric.strip()
    if not rubric:
        raise UserError("The rubric is empty; write what a good answer does, e.g. '10: matches the reference'.")
    if len(rubric) > MAX_RUBRIC_CHARS:
        raise UserError(
            f"The rubric has {len(rubric)} characters; shorten it to at most {MAX_RUBRIC_CHARS} so the judge reads "
            "it whole."
        )
    return rubric


def judge_prompt(rubric: str, question: str, expected: str, answer: str) -> list[dict[str, str]]:
    """The messages the judge is asked with: what to do, then the rubric, the question, the reference answer and
    the answer to score."""
    task = (
        f"Rubric:\n{rubric}\n\nQuestion:\n{_clip(question)}\n\nReference answer:\n{_clip(expected)}\n\n"
        f"Answer to grade:\n{_clip(answer) or '(empty)'}\n\nGrade the answer. Reply 'Score: N' (1-10), then why."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": task}]


def parse_score(output: str) -> float | None:
    """The score in a judge's output: the first 'Score: N', else the first 'N/10', else the output when it is a
    lone number; None when there is none or it is not from 1 to 10."""
    text = strip_reasoning(output)
    found = _LABELLED.search(text) or _OUT_OF_TEN.search(text) or _LONE.match(text)
    if found is None:
        return None
    value = float(found.group(1))
    return (int(value) if value.is_integer() else value) if 1 <= value <= 10 else None


def read_judgement(run: Run) -> Judgement | None:
    """The run's saved judgement, or None when it has none or the file is not one this module wrote (unreadable,
    or with fields of the wrong kind), so a damaged file hides the judgement and breaks no page."""
    try:
        values = json.loads((run.path / JUDGEMENT_FILE).read_text(encoding="utf-8"))
        judgement = Judgement(**values)
    except (OSError, UnicodeDecodeError, ValueError, TypeError):
        return None
    return judgement if _well_formed(judgement) else None


def matches(judgement: Judgement, evaluation: evaluate.Evaluation) -> bool:
    """Whether the judgement judged exactly the answers of this evaluation (not of an earlier one)."""
    judged = [(row["question"], row["base"]["answer"], row["tuned"]["answer"]) for row in judgement.examples]
    return judged == [(row["question"], row["base"], row["tuned"]) for row in evaluation.examples]


def summary(judgement: Judgement) -> str:
    """'A model's opinion, not a measurement: demo scored the trained answers 6.1/10 on average and the untrained
    3.2/10 (12 answers scored, 0 without a score).'"""
    averages = {side: judgement.average(side) for side in SIDES}
    said = {side: "no readable score" if value is None else f"{value:.1f}/10" for side, value in averages.items()}
    scored = judgement.n * len(SIDES) - judgement.unscored
    if scored == 0:
        return (
            f"{judgement.judge} gave none of the {judgement.unscored} answers a readable score (read what it wrote "
            "below); judge with a larger model that follows instructions."
        )
    return (
        f"A model's opinion, not a measurement: {judgement.judge} scored the trained answers {said['tuned']} on "
        f"average and the untrained {said['base']} ({scored} answers scored, {judgement.unscored} without a score)."
    )


def example_rows(judgement: Judgement) -> list[dict[str, Any]]:
    """One row per question for a table: both scores and what the judge wrote about each answer."""
    return [
        {
            "question": row["question"],
            "trained score": row["tuned"]["score"],
            "untrained score": row["base"]["score"],
            "judge on the trained answer": row["tuned"]["output"],
            "judge on the untrained answer": row["base"]["output"],
        }
        for row in judgement.examples
    ]


def _judged_answer(address: process.Address, model: str, rubric: str, row: dict[str, Any], side: str) -> dict:
    """The judge's score of one answer ("tuned" or "base") of an evaluation's row, its prompt and its raw output."""
    prompt = judge_prompt(rubric, row["question"], row["expected"], row[side])
    try:
        pieces = client.stream_chat(address, model, prompt, max_tokens=JUDGE_MAX_TOKENS, temperature=0.0, seed=0)
        output = "".join(pieces)
    except client.ServerGone:
        raise
    except UserError as refusal:  # this answer only (too long, out of GPU memory): no score, and the others go on
        output = f"(the model server refused: {refusal})"
        return {"answer": row[side], "score": None, "prompt": prompt, "output": output}
    return {"answer": row[side], "score": parse_score(output), "prompt": prompt, "output": output}


def _clip(text: str) -> str:
    return text if len(text) <= MAX_FIELD_CHARS else text[: MAX_FIELD_CHARS - 1] + "…"


def _well_formed(judgement: Judgement) -> bool:
    texts = (judgement.judge, judgement.rubric, judgement.source)
    if not all(isinstance(text, str) for text in texts) or not isinstance(judgement.examples, list):
        return False
    if not isinstance(judgement.n, int) or judgement.n != len(judgement.examples):
        return False
    return all(_well_formed_example(row) for row in judgement.examples)


def _well_formed_example(row: Any) -> bool:
    if not isinstance(row, dict) or not all(isinstance(row.get(key), str) for key in ("question", "expected")):
        return False
    for side in SIDES:
        judged = row.get(side)
        if not isinstance(judged, dict) or not all(isinstance(judged.get(key), str) for key in ("answer", "output")):
            return False
        score = judged.get("score")
        if not (
            score is None or (isinstance(score, int | float) and not isinstance(score, bool) and 1 <= score <= 10)
        ):
            return False
        if not isinstance(judged.get("prompt"), list):
            return False
    return True


def _save(run: Run, judgement: Judgement) -> None:
    content = json.dumps(asdict(judgement), ensure_ascii=False, indent=1).encode("utf-8")
    with disk_space("saving the judgement"):  # the scores are lost, the run and its evaluation are not
        write_atomically(run.path / JUDGEMENT_FILE, content)
