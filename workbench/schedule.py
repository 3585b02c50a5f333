"""The arithmetic of a run: how many rows are held out for evaluation, how many optimizer steps it takes, and how
often it evaluates and saves a checkpoint.

One home for these rules: the presets, the pre-flight check, the Datasets page's validation split and the training
process all call them, so the numbers shown before Start are the numbers the trainer then uses. Steps follow the
Hugging Face Trainer (``ceil(rows / micro-batch)`` batches per epoch, ``ceil(batches / accumulation)`` updates,
at least one).
"""

import math
import random
from dataclasses import dataclass
from typing import Any

from workbench.config import RunConfig


EVALUATIONS_PER_RUN = 10  # when eval_steps is 0: about this many evaluations
CHECKPOINTS_PER_RUN = 4  # when save_steps is 0: about this many checkpoints
SAVE_TOTAL_LIMIT = 2  # checkpoints kept on disk at once (the trainer deletes older ones)


def held_out_count(n_rows: int, fraction: float) -> int:
    """Rows a ``fraction`` holds out of ``n_rows``: rounded up, at least one, and always leaving one to train on
    (so 42 rows at 0.1 hold out 5, and a single row is never held out)."""
    if fraction <= 0 or n_rows < 2:
        return 0
    return min(n_rows - 1, max(1, math.ceil(n_rows * fraction - 1e-9)))


def split_rows(rows: list[Any], fraction: float, seed: int) -> tuple[list[Any], list[Any]]:
    """A seeded random split into (training, held-out) rows of ``held_out_count`` size; both keep the rows' order."""
    count = held_out_count(len(rows), fraction)
    chosen = set(random.Random(seed).sample(range(len(rows)), count))
    train = [row for index, row in enumerate(rows) if index not in chosen]
    return train, [row for index, row in enumerate(rows) if index in chosen]


def steps_per_epoch(n_rows: int, batch: int, accumulation: int) -> int:
    """Optimizer steps in one pass over ``n_rows`` rows."""
    return max(math.ceil(math.ceil(max(n_rows, 0) / batch) / accumulation), 1)


def optimizer_steps(n_rows: int, batch: int, accumulation: int, epochs: float, max_steps: int = 0) -> int:
    """Optimizer steps of the whole run: ``max_steps`` when set, else the epochs' worth."""
    if max_steps > 0:
        return max_steps
    return max(1, math.ceil(epochs * steps_per_epoch(n_rows, batch, accumulation)))


@dataclass(frozen=True)
class Plan:
    """The counts a run is built on."""

    train_rows: int
    held_out_rows: int  # split off the training data (0 when the held-out rows come from elsewhere)
    steps_per_epoch: int
    total_steps: int
    eval_every: int
    save_every: int

    @property
    def evaluations(self) -> int:
        return self.total_steps // self.eval_every

    @property
    def checkpoints_kept(self) -> int:
        """Checkpoints on disk at the busiest moment: the kept ones plus the one being written."""
        return min(self.total_steps // self.save_every, SAVE_TOTAL_LIMIT + 1)


def plan(config: RunConfig, n_rows: int, separate_eval: bool, packed_rows: int | None = None) -> Plan:
    """The plan of ``config`` on a dataset of ``n_rows`` rows.

    ``separate_eval`` is True when the held-out rows come from an evaluation file, the demo's held-out split or the
    library version's validation split; only otherwise is ``validation_fraction`` split off the training rows.
    ``packed_rows``: with packing, the number of packed sequences the training rows make (the steps count those).
    The checkpoint cadence is a multiple of the evaluation cadence, so every checkpoint has a held-out loss to be
    compared by (and the trainer requires it to keep the best one with early stopping), unless the user chose both.
    """
    held = 0 if separate_eval else held_out_count(n_rows, config.validation_fraction)
    train = n_rows - held
    sequences = packed_rows if packed_rows is not None else train
    batch, accumulation = config.per_device_train_batch_size, config.gradient_accumulation_steps
    steps = optimizer_steps(sequences, batch, accumulation, config.num_train_epochs, config.max_steps)
    eval_every = config.eval_steps or max(1, steps // EVALUATIONS_PER_RUN)
    save_every = config.save_steps or max(1, steps // CHECKPOINTS_PER_RUN)
    if (config.early_stopping_patience or not config.save_steps) and save_every % eval_every:
        save_every = eval_every * max(1, round(save_every / eval_every))
    return Plan(
        train_rows=train,
        held_out_rows=held,
        steps_per_epoch=steps_per_epoch(sequences, batch, accumulation),
        total_steps=steps,
        eval_every=eval_every,
        save_every=save_every,
    )
