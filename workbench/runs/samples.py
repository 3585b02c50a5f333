"""Answers during training: a few fixed held-out prompts answered at the start and at every evaluation.

Loss curves tell an engineer how training goes; the same questions answered step after step tell everyone else. The
training process appends one record per evaluation to ``samples.jsonl`` in the run directory (``step`` and the
``answers``, in the order of ``prompts`` in the first record); the Runs page shows them on a slider.
``workbench.training.callbacks.SampleAnswersCallback`` writes them.
"""

import json
from pathlib import Path
from typing import Any

from workbench.runs.directory import SAMPLES_FILE
from workbench.runs.jsonl import read_json_lines


SAMPLE_COUNT = 4  # questions followed through training: enough to see a trend, cheap to generate at each eval


def append_sample(run_dir: Path, record: dict[str, Any]) -> None:
    with open(run_dir / SAMPLES_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_samples(run_dir: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(the followed questions with their expected answers, one record per step with the answers given then);
    empty lists when the run has none yet. A half-written last line is skipped."""
    records = _records(run_dir)
    if not records or not isinstance(records[0].get("prompts"), list):
        return [], []
    header = records[0]
    questions = [
        {"question": str(prompt), "expected": str(expected)}
        for prompt, expected in zip(header["prompts"], header.get("expected") or [], strict=False)
    ]
    steps = [record for record in records[1:] if _answers_step(record, len(questions))]
    return questions, steps


def _answers_step(record: dict[str, Any], count: int) -> bool:
    answers = record.get("answers")
    return isinstance(record.get("step"), int) and isinstance(answers, list) and len(answers) == count


def saved_step(run_dir: Path) -> int | None:
    """The step whose weights the run saved when training restored its best checkpoint (early stopping); None
    when the saved model is simply the last step's."""
    steps = [record["saved_step"] for record in _records(run_dir) if isinstance(record.get("saved_step"), int)]
    return steps[-1] if steps else None


def _records(run_dir: Path) -> list[dict[str, Any]]:
    return read_json_lines(run_dir / SAMPLES_FILE)


def by_step(steps: list[dict[str, Any]]) -> dict[int, list[str]]:
    """The answers given at each step (a step evaluated twice keeps its later answers), in step order."""
    return {int(record["step"]): record["answers"] for record in sorted(steps, key=lambda record: record["step"])}
