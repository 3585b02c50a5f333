"""The Runs page's held-out scores of an ended run: each metric trained, with its change from the untrained base, and
the answers side by side."""

import streamlit as st

from workbench.results import answer_tables, regression
from workbench.runs import held_out_scores
from workbench.runs.directory import Run


def draw_scores(run: Run) -> None:
    """The held-out metrics, trained with the change from the untrained base, and an expander of answers; nothing
    when the run was not scored."""
    scores = held_out_scores.read_scores(run.path)
    if not scores.tuned:
        return
    shown = [row for row in answer_tables.metric_rows(scores) if row.trained is not None]
    for column, row in zip(st.columns(len(shown)), shown, strict=True):
        untrained = "not measured" if row.untrained is None else f"{row.untrained:.0%}"
        delta = None if row.untrained is None else f"{row.trained - row.untrained:+.0%}"
        column.metric(row.label, f"{row.trained:.0%}", delta=delta, help=f"{row.meaning} Untrained base: {untrained}.")
    st.caption(
        f"On {scores.tuned.n} held-out conversations: the trained model, and in colour its change from the untrained "
        "base (hover a figure for the base's own)."
    )
    if against := regression.against_parent(run):
        st.info(against, icon=":material/compare_arrows:")
    if answers := answer_tables.side_by_side(scores):
        with st.expander(f"Held-out answers, untrained and trained (first {len(answers)})", icon=":material/rule:"):
            st.dataframe(answers, hide_index=True, width="stretch")
