"""The held-out scores file of a run (``eval.json``): the untrained base model's score, written before training, and
the trained model's, written after; typed readers and writers that never fail on what they find."""

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.runs.directory import SCORES_FILE, read_json


@dataclass(frozen=True)
class Score:
    """Held-out scores of one model (the untrained base or the trained one) over ``n`` conversations, each 0..1; the
    overlap metrics are None for runs scored before they existed."""

    exact_match: float
    n: int
    checked: int = 0  # answers whose expected text fits the length limit with room to spare...
    ran_on: int = 0  # ...and of those, how many the model did not end by itself
    examples: tuple[tuple[str, str, str], ...] = ()  # (question, expected, answer given)
    f1: float | None = None
    rouge_l: float | None = None
    bleu: float | None = None

    @classmethod
    def from_dict(cls, values: Any) -> "Score | None":
        if not isinstance(values, dict) or not isinstance(values.get("exact_match"), int | float):
            return None
        examples = tuple(tuple(str(part) for part in item) for item in values.get("examples", []) if len(item) == 3)
        counts = (int(values.get(name, 0)) for name in ("n", "checked", "ran_on"))
        overlaps = {name: _fraction(values.get(name)) for name in ("f1", "rouge_l", "bleu")}
        return cls(float(values["exact_match"]), *counts, examples, **overlaps)  # type: ignore[arg-type]


def _fraction(value: Any) -> float | None:
    """A score read from a file: a number from 0 to 1, or None for anything else."""
    return float(value) if isinstance(value, int | float) and 0 <= value <= 1 else None


@dataclass(frozen=True)
class Scores:
    """``eval.json``: the untrained base model's score (written before training) and the trained model's."""

    base: Score | None = None
    tuned: Score | None = None


def read_scores(run_dir: Path) -> Scores:
    values = read_json(run_dir / SCORES_FILE)
    if not isinstance(values, dict):
        return Scores()
    return Scores(Score.from_dict(values.get("base")), Score.from_dict(values.get("tuned")))


def write_scores(run_dir: Path, scores: Scores) -> None:
    tmp = run_dir / f".{SCORES_FILE}.tmp"
    tmp.write_text(json.dumps(dataclasses.asdict(scores), indent=1), encoding="utf-8")
    tmp.replace(run_dir / SCORES_FILE)
