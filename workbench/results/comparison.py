"""Putting runs side by side: what each one ended with, and which settings set them apart."""

import math
from dataclasses import dataclass
from typing import Any

from workbench.config import RunConfig, form_fields
from workbench.data import sources
from workbench.results import diagnostics
from workbench.runs import directory, held_out_scores
from workbench.runs.directory import Run
from workbench.words import format_duration


@dataclass(frozen=True)
class Outcome:
    """What one run ended with (or has reached so far)."""

    run_id: str
    state: str
    steps: int
    final_loss: float | None
    best_eval_loss: float | None
    exact_match_base: float | None
    exact_match_tuned: float | None
    f1_tuned: float | None
    rouge_l_tuned: float | None
    elapsed_s: float
    findings: tuple[diagnostics.Finding, ...]


def outcome(run: Run) -> Outcome:
    metrics = directory.read_metrics(run.path)
    status = directory.read_status(run.path)
    scores = held_out_scores.read_scores(run.path)
    return Outcome(
        run_id=run.run_id,
        state=status.state,
        steps=status.step,
        final_loss=_last(metrics, "loss"),
        best_eval_loss=min(_values(metrics, "eval_loss", finite_only=True), default=None),
        exact_match_base=scores.base.exact_match if scores.base else None,
        exact_match_tuned=scores.tuned.exact_match if scores.tuned else None,
        f1_tuned=scores.tuned.f1 if scores.tuned else None,
        rouge_l_tuned=scores.tuned.rouge_l if scores.tuned else None,
        elapsed_s=status.elapsed_s(),
        findings=(*diagnostics.diagnose(metrics), *diagnostics.diagnose_answers(scores)),
    )


def outcome_rows(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """One table row per run, with labelled columns; blanks where a run has no such figure."""
    return [
        {
            "run": item.run_id,
            "state": item.state,
            "steps": item.steps,
            "final training loss": _rounded(item.final_loss),
            "best held-out loss": _rounded(item.best_eval_loss),
            "exact match, untrained": _percent(item.exact_match_base),
            "exact match, trained": _percent(item.exact_match_tuned),
            "token F1, trained": _percent(item.f1_tuned),
            "ROUGE-L, trained": _percent(item.rouge_l_tuned),
            "time": format_duration(item.elapsed_s),
            "diagnostics": _finding_labels(item.findings),
        }
        for item in outcomes
    ]


NOT_COMPARED = {"run_name"}  # the run id already tells runs apart


def _finding_labels(findings: tuple[diagnostics.Finding, ...]) -> str:
    return "; ".join(diagnostics.SHORT_LABELS.get(finding.code, finding.code) for finding in findings) or "none"


def differing_fields(configs: list[RunConfig]) -> list[str]:
    """The config fields whose values are not the same in every run, in form order (the run name aside)."""
    names = [spec.name for spec in form_fields() if spec.name not in NOT_COMPARED]
    return [name for name in names if len({repr(getattr(config, name)) for config in configs}) > 1]


def settings_rows(compared: list[Run], only_differing: bool = True) -> list[dict[str, Any]]:
    """One row per setting (labelled as on the Train form), one column per run."""
    specs = form_fields()
    wanted = set(differing_fields([run.config for run in compared])) if only_differing else None
    return [
        {"setting": spec.label, **{run.run_id: _setting(run.config, spec.name) for run in compared}}
        for spec in specs
        if wanted is None or spec.name in wanted
    ]


def _values(metrics: list[dict[str, Any]], key: str, finite_only: bool = False) -> list[float]:
    values = [float(record[key]) for record in metrics if isinstance(record.get(key), int | float)]
    return [value for value in values if math.isfinite(value)] if finite_only else values


def _last(metrics: list[dict[str, Any]], key: str) -> float | None:
    values = _values(metrics, key)
    return values[-1] if values else None


def _rounded(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 4)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _setting(config: RunConfig, name: str) -> str:
    value = getattr(config, name)
    return sources.dataset_label(value) if name in ("dataset", "eval_dataset") else _cell(value)


def _cell(value: Any) -> str:
    """Settings as text, so that one column can hold numbers, words and switches."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)
