"""The Runs page's job table: what is running and waiting on this server, whose it is, and its place in the queue."""

import streamlit as st

from workbench.jobs import control, fairness
from workbench.models import device


RECENT = 20  # finished jobs shown under the active ones


def draw_queue() -> None:
    """An expander with every active job and the most recent finished ones; open while anything is active."""
    listed = control.visible_jobs(st.session_state["actor"])
    active = [job for job in listed if job.active]
    shown = active + [job for job in listed if not job.active][:RECENT]
    title = f"All jobs on this server ({len(active)} running or waiting)" if active else "All jobs on this server"
    with st.expander(title, expanded=bool(active), icon=":material/view_list:"):
        st.dataframe(fairness.queue_rows(shown, len(device.gpus())), hide_index=True, width="stretch")
        if holders := fairness.holders():
            st.caption(f"Training now: {', '.join(holders)}'s runs.")
