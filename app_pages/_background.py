"""Following a background task of a run (a merge, an evaluation, a judgement) on the Runs page: redrawn every
second while its own process works, then the whole page once it has ended."""

import streamlit as st

from workbench.results import background


def keep_open(task: background.Task, state: background.TaskState) -> bool:
    """Whether the task's section stays expanded: while it runs, when it failed, and once it has ended in this
    browser session after being followed here (so the result it was waited for does not fold away)."""
    followed = f"followed:{task.state_path}"
    if state.running:
        st.session_state[followed] = True
    return state.running or state.state == "failed" or st.session_state.get(followed, False)


@st.fragment(run_every=1.0)
def follow(task: background.Task, label: str) -> None:
    """``label`` names the work ("Evaluating checkpoint 128"); counted work shows a bar, staged work its stage."""
    state = background.read_state(task)
    if not state.running:
        st.rerun()
    if state.total:
        st.progress(state.done / state.total, text=f"{label}: {state.message}")
    else:
        st.info(f"{label}: {state.message or 'starting…'}", icon=":material/hourglass_top:")
    st.caption("It goes on in a process of its own: you may leave this page and come back.")
