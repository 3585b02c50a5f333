"""The Runs page's job table: what is running and waiting on this server, whose it is, and its place in the queue."""

import streamlit as st

from workbench import words
from workbench.jobs import control, fairness
from workbench.models import device


RECENT = 20  # finished jobs shown under the active ones


def draw_queue() -> None:
    """An expander with every active job and the most recent finished ones; open while anything is active."""
    actor = st.session_state["actor"]
    listed = control.visible_jobs(actor)
    active = [job for job in listed if job.active]
    shown = active + [job for job in listed if not job.active][:RECENT]
    unseen = control.unseen_active_jobs(actor)
    title = "All jobs on this server" if not unseen else "Your jobs and the team's shared ones"
    title += f" ({len(active)} running or waiting)" if active else ""
    with st.expander(title, expanded=bool(active), icon=":material/view_list:"):
        st.dataframe(fairness.queue_rows(shown, len(device.gpus())), hide_index=True, width="stretch")
        if unseen:
            st.caption(f"Also on this server: {words.plural(unseen, 'run')} of other people's, running or waiting.")
        if holders := fairness.holders():
            st.caption(f"Training now: {', '.join(holders)}'s runs.")
