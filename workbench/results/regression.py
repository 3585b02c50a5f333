"""A run against the run it was started from (Train again): what was changed, and which held-out metrics got better
or worse, in words, so that trying one change at a time reads as a result rather than two tables to compare."""

from workbench.errors import UserError
from workbench.results import answer_tables, comparison
from workbench.runs import directory, held_out_scores
from workbench.runs.directory import Run


SAME_WITHIN = 0.005  # closer than half a percentage point counts as the same


def against_parent(run: Run) -> str | None:
    """'Against its parent RUN (changed: Learning rate 0.005 -> 0.001): better on exact match 80% -> 95%; worse on
    ...; the same on ...', or None when the run has no parent or either run has no held-out scores."""
    parent_id = directory.read_status(run.path).parent
    if not parent_id:
        return None
    try:
        parent = directory.get_run(parent_id)
    except UserError:
        return f"The run it was started from ({parent_id}) has been deleted, so there is nothing to compare with."
    mine, theirs = held_out_scores.read_scores(run.path).tuned, held_out_scores.read_scores(parent.path).tuned
    if mine is None or theirs is None:
        return None
    verdicts: dict[str, list[str]] = {"better": [], "worse": [], "the same": []}
    for field, label, _ in answer_tables.METRICS:
        before, after = getattr(theirs, field), getattr(mine, field)
        if before is not None and after is not None:
            verdicts[_verdict(after - before)].append(f"{label} {before:.0%} -> {after:.0%}")
    said = "; ".join(f"{verdict} on {', '.join(items)}" for verdict, items in verdicts.items() if items)
    return f"Against its parent {parent_id}{_changes(parent, run)}: {said}."


def _verdict(difference: float) -> str:
    if difference > SAME_WITHIN:
        return "better"
    return "worse" if difference < -SAME_WITHIN else "the same"


def _changes(parent: Run, run: Run) -> str:
    rows = comparison.settings_rows([parent, run])
    changed = [f"{row['setting']} {row[parent.run_id]} -> {row[run.run_id]}" for row in rows]
    return f" (changed: {', '.join(changed)})" if changed else " (no setting changed)"
