"""Where a run's time went: waiting in the queue, loading the data and the model, scoring the untrained base,
training, evaluating along the way, saving and scoring the trained model, in seconds, kept in the run record as
``phases`` so that the fixed cost around the training itself is visible."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class PhaseClock:
    """Adds up the seconds spent in each named phase of one training process."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(phase, time.perf_counter() - started)

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + max(0.0, seconds)

    def split_evaluation(self, log_history: list[dict[str, Any]]) -> None:
        """Move the time the trainer spent evaluating (its ``eval_runtime`` entries) out of ``training``."""
        evaluating = sum(entry.get("eval_runtime", 0.0) for entry in log_history)
        evaluating = min(evaluating, self.seconds.get("training", 0.0))
        if evaluating:
            self.seconds["training"] -= evaluating
            self.add("evaluation", evaluating)

    def rounded(self) -> dict[str, float]:
        return {phase: round(seconds, 2) for phase, seconds in self.seconds.items()}
