"""The Runs page's held-out scores of an ended run: exact match untrained and trained, and the answers side by side."""

import streamlit as st

from workbench.results import answer_tables
from workbench.runs import directory
from workbench.runs.directory import Run


def draw_scores(run: Run) -> None:
    """Two metrics and an expander of answers; nothing when the run was not scored."""
    scores = directory.read_scores(run.path)
    if not scores.tuned:
        return
    before = scores.base.exact_match if scores.base else 0.0
    left, right = st.columns(2)
    left.metric("Held-out exact match, untrained", f"{before:.0%}")
    after = scores.tuned.exact_match
    right.metric("Held-out exact match, trained", f"{after:.0%}", delta=f"{after - before:+.0%}")
    if answers := answer_tables.side_by_side(scores):
        with st.expander(f"Held-out answers, untrained and trained (first {len(answers)})", icon=":material/rule:"):
            st.dataframe(answers, hide_index=True, width="stretch")
