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


SAMPLE_COUNT = 4  # questions followed through training: enough to see a trend, cheap to generate at each eval


def append_sample(run_dir: Path, record: dict[str, Any]) -> None:
    with open(run_dir / SAMPLES_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_samples(run_dir: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(the followed questions with their expected answers, one record per step with the answers given then);
    empty lists when the run has none yet. A half-written last line is skipped."""
    try:
        lines = (run_dir / SAMPLES_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return [], []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    if not records or "prompts" not in records[0]:
        return [], []
    header = records[0]
    questions = [
        {"question": prompt, "expected": expected}
        for prompt, expected in zip(header["prompts"], header.get("expected", []), strict=False)
    ]
    steps = [record for record in records[1:] if "step" in record and len(record.get("answers", [])) == len(questions)]
    return questions, steps


def saved_step(run_dir: Path) -> int | None:
    """The step whose weights the run saved when training restored its best checkpoint (early stopping); None
    when the saved model is simply the last step's."""
    try:
        lines = (run_dir / SAMPLES_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "saved_step" in record:
            return int(record["saved_step"])
    return None


def by_step(steps: list[dict[str, Any]]) -> dict[int, list[str]]:
    """The answers given at each step (a step evaluated twice keeps its later answers), in step order."""
    return {int(record["step"]): record["answers"] for record in sorted(steps, key=lambda record: record["step"])}
