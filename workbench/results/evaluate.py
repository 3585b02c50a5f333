"""Evaluating a finished run after training: its untrained base and its trained model answer the same conversations
(the run's held-out split, or a test file given for it) through the model server, every answer is scored, and the
whole is saved with the run (``evaluation.json``) for the pages and ``workbench eval``.

Answers are greedy (temperature 0, seed 0) and as long as the run's ``max_new_tokens_eval``, the same settings as
the scores taken during training, so the two agree; the answers are generated once and kept, not again per view.
A saved checkpoint is evaluated the same way and kept in ``evaluations/checkpoint-STEP.json``; the untrained
base's answers to the same conversations are taken from an earlier evaluation when there is one.
"""

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.data import library, sources
from workbench.data.uploads import write_atomically
from workbench.errors import UserError, disk_space
from workbench.evaluation import held_out
from workbench.evaluation.answers import expected_answer
from workbench.evaluation.behaviour import MAX_PERPLEXITY, Answered, behaviour
from workbench.evaluation.metrics import overlap
from workbench.jobs import control
from workbench.results import answer_tables, answering
from workbench.runs import checkpoints, directory
from workbench.runs.directory import Run
from workbench.serving import process
from workbench.settings import number_setting
from workbench.team import access
from workbench.team.identity import Actor


EVALUATION_FILE = "evaluation.json"  # of the model training saved at the end
CHECKPOINT_EVALUATIONS_DIR = "evaluations"  # one file per evaluated checkpoint
METRIC_KEYS = tuple(key for key, _, _ in answer_tables.METRICS)
# Conversations per evaluation: enough for a percentage, quick on the demo and on a GPU.
MAX_EVALUATED_SETTING, MAX_EVALUATED = "WORKBENCH_EVAL_MAX_CONVERSATIONS", 200


@dataclass(frozen=True)
class Evaluation:
    """The scores of the untrained base and the trained model on ``n`` conversations, and every answer."""

    source: str  # "the held-out split" or the test file's name
    n: int
    base: dict[str, float]  # exact_match, f1, rouge_l, bleu
    tuned: dict[str, float]
    examples: list[dict[str, Any]] = field(default_factory=list)  # question, expected, both answers, their scores
    seconds: float = 0.0
    checkpoint: int | None = None  # the step of the checkpoint evaluated; None for the final model
    behaviour: dict[str, dict[str, Any]] = field(default_factory=dict)  # per model: loss, perplexity, stops, length

    @property
    def model(self) -> str:
        return "the final model" if self.checkpoint is None else f"checkpoint {self.checkpoint}"


def evaluate(
    run_id: str,
    actor: Actor | None = None,
    data: Path | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    checkpoint: int | None = None,
) -> Evaluation:
    """Evaluate the finished run ``run_id`` (one ``actor`` may see), or its ``checkpoint`` of that step, on its
    held-out split or on the file ``data``, save the result with the run and return it; ``progress`` hears
    (answers done, answers in all). A run whose model is a promoted checkpoint is evaluated as that checkpoint."""
    control.check_see_run(actor, run_id)
    run = directory.get_run(run_id)
    if not run.has_output:
        raise UserError(f"The run {run_id} has no trained model yet; evaluate it when it has succeeded.")
    promoted = checkpoints.promoted_step(run.path)
    checkpoint = promoted if checkpoint is None else checkpoint
    tuned_model = run.run_id if checkpoint == promoted else f"{run.run_id}@checkpoint-{checkpoint}"
    if data is not None:
        library.check_visible(access.acting(actor), data)
    conversations, source = conversations_to_evaluate(run, data)
    started = time.monotonic()
    address = process.ensure_server()
    expected = [expected_answer(conversation) for conversation in conversations]
    answers = {"base": _known_base_answers(run, source, conversations), "tuned": []}
    models = {"base": run.config.model, "tuned": tuned_model}
    for name, model in models.items():
        for conversation, reference in list(zip(conversations, expected, strict=True))[len(answers[name]) :]:
            answers[name].append(answering.answer(address, model, conversation, reference, run, name == "base"))
            progress(len(answers["base"]) + len(answers["tuned"]), len(conversations) * 2)
    evaluation = Evaluation(
        source=source,
        n=len(conversations),
        base=asdict(overlap([given.text for given in answers["base"]], expected)),
        tuned=asdict(overlap([given.text for given in answers["tuned"]], expected)),
        examples=[
            answering.example_row(conversation, reference, {"base": base, "tuned": tuned})
            for conversation, reference, base, tuned in zip(
                conversations, expected, answers["base"], answers["tuned"], strict=True
            )
        ],
        seconds=round(time.monotonic() - started, 1),
        checkpoint=checkpoint,
        behaviour={name: asdict(behaviour(given, expected)) for name, given in answers.items()},
    )
    _save(run, evaluation)
    return evaluation


def read_evaluation(run: Run, checkpoint: int | None = None) -> Evaluation | None:
    """The run's saved evaluation of its final model (or of its ``checkpoint`` of that step), or None when it has
    none or the file is not one this module wrote (unreadable, or with fields of the wrong kind), so a damaged file
    hides that evaluation and breaks no page."""
    try:
        values = json.loads(_evaluation_path(run, checkpoint).read_text(encoding="utf-8"))
        evaluation = Evaluation(**values)
    except (OSError, UnicodeDecodeError, ValueError, TypeError):
        return None
    return evaluation if _well_formed(evaluation) and evaluation.checkpoint == checkpoint else None


def current_evaluation(run: Run) -> Evaluation | None:
    """The evaluation of the model the run answers with now: its promoted checkpoint, or else its final model."""
    return read_evaluation(run, checkpoints.promoted_step(run.path))


def checkpoint_evaluations(run: Run) -> dict[int, Evaluation]:
    """Every saved evaluation of one of the run's checkpoints, by step."""
    folder = run.path / CHECKPOINT_EVALUATIONS_DIR
    steps = sorted(checkpoints.checkpoint_step(Path(path.stem)) for path in folder.glob("checkpoint-*.json"))
    found = {step: read_evaluation(run, step) for step in steps if step >= 0}
    return {step: evaluation for step, evaluation in found.items() if evaluation is not None}


def summary(evaluation: Evaluation) -> str:
    """'On the held-out split (64 conversations), untrained -> trained: Exact match 0% -> 100%, ...'."""
    parts = [
        f"{label} {evaluation.base[key]:.0%} -> {evaluation.tuned[key]:.0%}" for key, label, _ in answer_tables.METRICS
    ]
    trained = "trained" if evaluation.checkpoint is None else evaluation.model
    said = f"On {evaluation.source} ({evaluation.n} conversations), untrained -> {trained}: {', '.join(parts)}."
    return f"{said} {behaviour_sentence(evaluation)}".strip()


def behaviour_sentence(evaluation: Evaluation) -> str:
    """'Answer-token loss 9.63 -> 0.01 (perplexity 15,000 -> 1.0); ends its answers 0% -> 100% of the time; answer
    length 3.1x -> 1.0x the expected one.' ('' for an evaluation saved before these were measured)."""
    base, tuned = evaluation.behaviour.get("base"), evaluation.behaviour.get("tuned")
    if not base or not tuned:
        return ""
    parts = []
    if base.get("loss") is not None and tuned.get("loss") is not None:
        parts.append(
            f"Answer-token loss {base['loss']:.2f} -> {tuned['loss']:.2f} "
            f"(perplexity {_perplexity(base['perplexity'])} -> {_perplexity(tuned['perplexity'])})"
        )
    parts.append(f"ends its answers by itself {base['stops']:.0%} -> {tuned['stops']:.0%} of the time")
    if base.get("length_ratio") is not None and tuned.get("length_ratio") is not None:
        parts.append(f"answer length {base['length_ratio']:.1f}x -> {tuned['length_ratio']:.1f}x the expected one")
    sentence = "; ".join(parts)
    return f"{sentence[0].upper()}{sentence[1:]}."


def example_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """One row per conversation for a sortable table: the question, the expected answer, both models' answers and
    the trained answer's scores (0..1)."""
    return [
        {
            "question": row["question"],
            "expected": row["expected"],
            "trained answer": row["tuned"],
            "trained matches": row["tuned_match"],
            "trained F1": row["tuned_f1"],
            "trained ROUGE-L": row["tuned_rouge_l"],
            "trained stops": row.get("tuned_stopped"),
            "trained loss": row.get("tuned_loss"),
            "untrained answer": row["base"],
            "untrained F1": row["base_f1"],
            "untrained loss": row.get("base_loss"),
        }
        for row in evaluation.examples
    ]


def _perplexity(value: float) -> str:
    return f"over {MAX_PERPLEXITY:,.0f}" if value >= MAX_PERPLEXITY else f"{value:,.1f}"


def conversations_to_evaluate(run: Run, data: Path | None) -> tuple[list[list[dict]], str]:
    """The conversations an evaluation of ``run`` answers (its held-out split, or the file ``data``), capped by the
    setting, and the words naming where they came from; refuses (UserError) when none ends with an answer."""
    if data is not None:
        version = library.version_for_path(data)
        name = f"the dataset {version.label}" if version else f"the test file {data.name}"
        rows, source = sources.load_rows(str(data)), name
    else:
        rows, source = held_out.split_rows(run.config)[1], "the held-out split"
        if not rows:
            raise UserError(
                "This run kept no held-out conversations (it trained on all of them); evaluate it on a dataset saved "
                "in the library, or train again with a held-out share."
            )
    usable = held_out.answerable(rows)[: max(1, int(number_setting(MAX_EVALUATED_SETTING, MAX_EVALUATED)))]
    if not usable:
        raise UserError(
            f"{source[0].upper()}{source[1:]} has no chat conversations that end with an answer to compare against; "
            "give a test file of conversations whose last message is the expected answer."
        )
    return [list(row["messages"]) for row in usable], source


def _known_base_answers(run: Run, source: str, conversations: list[list[dict]]) -> list[Answered]:
    """The untrained base's answers to exactly these conversations from an earlier evaluation of the run, or [] (the
    base answers greedily, so asking again would give the same answers)."""
    prompts = [answering.asked_messages(conversation) for conversation in conversations]
    earlier = [read_evaluation(run), *checkpoint_evaluations(run).values()]
    for evaluation in earlier:
        if evaluation is not None and evaluation.source == source and _prompts(evaluation) == prompts:
            kept = [answering.answered(row, "base") for row in evaluation.examples]
            if all(kept):
                return kept
    return []


def _prompts(evaluation: Evaluation) -> list[Any]:
    return [row.get("prompt") for row in evaluation.examples]


def _evaluation_path(run: Run, checkpoint: int | None) -> Path:
    if checkpoint is None:
        return run.path / EVALUATION_FILE
    return run.path / CHECKPOINT_EVALUATIONS_DIR / f"checkpoint-{checkpoint}.json"


def _well_formed(evaluation: Evaluation) -> bool:
    scores = (evaluation.base, evaluation.tuned)
    if not all(isinstance(score, dict) and all(_fraction(score.get(key)) for key in METRIC_KEYS) for score in scores):
        return False
    if not isinstance(evaluation.behaviour, dict) or not all(
        isinstance(measured, dict) and all(value is None or _number(value) for value in measured.values())
        for measured in evaluation.behaviour.values()
    ):
        return False
    texts = ("question", "expected", "base", "tuned")
    return isinstance(evaluation.examples, list) and all(
        isinstance(row, dict) and all(isinstance(row.get(key), str) for key in texts) for row in evaluation.examples
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fraction(value: Any) -> bool:
    return isinstance(value, int | float) and 0 <= value <= 1


def _save(run: Run, evaluation: Evaluation) -> None:
    content = json.dumps(asdict(evaluation), ensure_ascii=False, indent=1).encode("utf-8")
    path = _evaluation_path(run, evaluation.checkpoint)
    with disk_space("saving the evaluation"):  # the answers are lost, the run and its earlier evaluation are not
        path.parent.mkdir(exist_ok=True)
        write_atomically(path, content)
