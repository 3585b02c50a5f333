"""Reading a run's metrics for the usual ways training goes wrong, each finding a plain sentence with a fix.

The checks look at what the training process logged (``metrics.jsonl``): a loss that became NaN, a loss that went up,
jumped or never moved, held-out loss rising while training loss falls (memorising), and gradient-norm spikes; and
in the held-out answers (``eval.json``), a trained model that does not stop by itself. They
work on a run that is still going as well as on a finished one; too few points to judge give no finding, not a guess.
"""

import math
import statistics
from dataclasses import dataclass
from typing import Any

from workbench.runs.held_out_scores import Scores


MIN_POINTS = 10  # fewer logged losses than this say nothing reliable about a trend
RISE_FACTOR = 1.1  # the end of the curve this much above its start counts as going up
JUMP_FACTOR = 1.5  # any logged loss this much above the first one counts as a jump
FLAT_FACTOR = 0.97  # ... and no more than 3% below its start counts as not moving
OVERFIT_FACTOR = 1.1  # held-out loss this much above its best
SPIKE_FACTOR = 10.0  # a gradient norm this many times the median of the steps just before it
SPIKE_WINDOW = 10  # how many steps before make that median
MIN_ANSWERS = 5  # fewer checked held-out answers than this say nothing about stopping
RUN_ON_SHARE = 0.2  # more than this share of answers not ended by the model is a finding
PERSISTENT_NONFINITE = 3  # the last this many gradient norms all NaN or inf: the run has diverged


# Each finding's code in a few words, for tables that have no room for the whole sentence.
SHORT_LABELS = {
    "diverged": "diverged (NaN)",
    "loss_rising": "loss went up",
    "loss_flat": "loss barely moved",
    "loss_jump": "loss jumped",
    "memorising": "memorising",
    "gradient_spikes": "gradient spikes",
    "runs_on": "answers do not stop",
}


@dataclass(frozen=True)
class Finding:
    """One thing worth knowing about a run's curves."""

    code: str
    severity: str  # "error" (the run is not usable as it is) or "warning"
    message: str
    fix: str
    step: int | None = None


def diagnose(metrics: list[dict[str, Any]]) -> list[Finding]:
    """Every finding for these metrics records, the most serious first."""
    losses = _series(metrics, "loss")
    findings = [
        *_diverged(metrics),
        *(_trend(losses) or _loss_jump(losses)),
        *_memorising(losses, _series(metrics, "eval_loss")),
        *_gradient_spikes(_series(metrics, "grad_norm")),
    ]
    return sorted(findings, key=lambda finding: finding.severity != "error")


def diagnose_answers(scores: Scores) -> list[Finding]:
    """Findings from the held-out answers in ``eval.json``: a trained model that does not stop by itself."""
    if scores.tuned is None:
        return []
    checked, ran_on = scores.tuned.checked, scores.tuned.ran_on
    if checked < MIN_ANSWERS or ran_on / checked <= RUN_ON_SHARE:
        return []
    return [
        Finding(
            "runs_on",
            "warning",
            f"In {ran_on} of {checked} held-out answers the trained model did not stop by itself: it kept writing "
            "until the length limit, where the expected answer was much shorter.",
            "Check on the Datasets page (what the model sees) that the end-of-turn token is among the trained "
            "tokens; with a chat template that has no generation markers, turn off assistant-only loss.",
        )
    ]


def _series(metrics: list[dict[str, Any]], key: str) -> list[tuple[int, float]]:
    """(step, value) for every record that logged ``key``."""
    points = [(record["step"], record.get(key)) for record in metrics]
    return [(int(step), float(value)) for step, value in points if isinstance(value, int | float)]


def _diverged(metrics: list[dict[str, Any]]) -> list[Finding]:
    for key, what in (("loss", "training loss"), ("eval_loss", "held-out loss")):
        for step, value in _series(metrics, key):
            if not math.isfinite(value):
                return [_diverged_finding(what, value, step)]
    # With fp16 the loss scaler overflows now and then: an inf gradient norm on its own is a skipped step, not
    # divergence. Only norms that stay non-finite to the end mean the weights are gone.
    last_norms = _series(metrics, "grad_norm")[-PERSISTENT_NONFINITE:]
    if len(last_norms) == PERSISTENT_NONFINITE and not any(math.isfinite(value) for _, value in last_norms):
        step, value = last_norms[0]
        return [_diverged_finding("gradient norm", value, step)]
    return []


def _diverged_finding(what: str, value: float, step: int) -> Finding:
    return Finding(
        "diverged",
        "error",
        f"Training diverged: the {what} became {value} at step {step}, so the weights are no longer usable.",
        "Halve the learning rate and start again; with fp16, switch the precision to bf16.",
        step,
    )


def _trend(losses: list[tuple[int, float]]) -> list[Finding]:
    finite = [(step, value) for step, value in losses if math.isfinite(value)]
    if len(finite) < MIN_POINTS:
        return []
    window = max(3, len(finite) // 5)
    start = statistics.fmean(value for _, value in finite[:window])
    end = statistics.fmean(value for _, value in finite[-window:])
    if end > start * RISE_FACTOR:
        return [
            Finding(
                "loss_rising",
                "error",
                f"The training loss went up, from about {start:.3g} to {end:.3g}: the learning rate is probably too "
                "high for this model.",
                "Halve the learning rate, or raise the warmup to 0.1 of the steps.",
            )
        ]
    if end > start * FLAT_FACTOR:
        return [
            Finding(
                "loss_flat",
                "warning",
                f"The training loss barely moved (about {start:.3g} at the start, {end:.3g} at the end), so the "
                "model has learned little so far.",
                "Raise the learning rate (try double) or train for more epochs; check on the Datasets page that the "
                "answers are among the trained tokens.",
            )
        ]
    return []


def _loss_jump(losses: list[tuple[int, float]]) -> list[Finding]:
    """A loss that shot far above where it started, even if it came back down: the steps were too large."""
    finite = [(step, value) for step, value in losses if math.isfinite(value)]
    if len(finite) < MIN_POINTS:
        return []
    start = finite[0][1]
    peak_step, peak = max(finite, key=lambda point: point[1])
    if peak <= start * JUMP_FACTOR:
        return []
    return [
        Finding(
            "loss_jump",
            "warning",
            f"The training loss jumped from {start:.3g} to {peak:.3g} at step {peak_step}: the steps the optimizer "
            "takes are too large, and much of what the model learned may be lost.",
            "Halve the learning rate, or raise the warmup to 0.1 of the steps.",
            peak_step,
        )
    ]


def _memorising(losses: list[tuple[int, float]], eval_losses: list[tuple[int, float]]) -> list[Finding]:
    if len(eval_losses) < 3:
        return []
    best_step, best = min(eval_losses, key=lambda point: point[1])
    last_step, last = eval_losses[-1]
    if last_step == best_step or last <= best * OVERFIT_FACTOR:
        return []
    train_at_best = [value for step, value in losses if step <= best_step]
    train_since = [value for step, value in losses if step > best_step]
    if not train_at_best or not train_since or min(train_since) >= train_at_best[-1]:
        return []
    return [
        Finding(
            "memorising",
            "warning",
            f"The held-out loss was lowest at step {best_step} ({best:.3g}) and rose to {last:.3g} by step "
            f"{last_step} while the training loss kept falling: the model started to memorise its training rows.",
            f"Train for fewer steps (about {best_step}), set early stopping, or add more varied rows.",
            best_step,
        )
    ]


def _gradient_spikes(grad_norms: list[tuple[int, float]]) -> list[Finding]:
    """Norms far above the median of the steps just before them. A global median would not do: norms are large
    while the loss is high and tiny once it has converged, so every early step would look like a spike."""
    finite = [(step, value) for step, value in grad_norms if math.isfinite(value)]
    if len(finite) < MIN_POINTS:
        return []
    spikes, medians = [], []
    for index in range(SPIKE_WINDOW, len(finite)):
        step, value = finite[index]
        local = statistics.median(norm for _, norm in finite[index - SPIKE_WINDOW : index])
        if value > max(local * SPIKE_FACTOR, 1.0):
            spikes.append((step, value))
            medians.append(local)
    if not spikes:
        return []
    median = statistics.median(medians)
    worst_step, worst = max(spikes, key=lambda point: point[1])
    count = f"{len(spikes)} steps" if len(spikes) > 1 else "one step"
    return [
        Finding(
            "gradient_spikes",
            "warning",
            f"The gradient norm spiked on {count} (up to {worst:.3g} at step {worst_step}, against a median of "
            f"{median:.3g} just before), which can undo what the model learned.",
            "Lower the learning rate or raise the warmup; spikes often come from a few very long or broken rows, "
            "which the Datasets page finds.",
            worst_step,
        )
    ]
