"""The Runs page's Cancel and Resume buttons: locked for someone else's run; a cancel takes a second click."""

import streamlit as st

from workbench.errors import UserError
from workbench.jobs import control, queue
from workbench.runs import checkpoints
from workbench.runs.directory import Run
from workbench.team import access


def draw_cancel(run_id: str) -> None:
    owner = job.owner if (job := queue.find_job(run_id)) else ""
    allowed = access.may_manage(st.session_state["actor"], owner)
    help_text = None if allowed else f"Started by {owner}; only they or an admin can cancel it."
    if st.button("Cancel run", icon=":material/stop:", disabled=not allowed, help=help_text):
        st.session_state["confirm_cancel"] = run_id
    if st.session_state.get("confirm_cancel") == run_id:
        _confirm(run_id)


def _confirm(run_id: str) -> None:
    """The second click a cancel takes: a run stopped by mistake cannot be taken back."""
    st.warning("Cancel this run? It stops at its next step and keeps what it trained so far.")
    yes, no = st.columns(2)
    if yes.button("Yes, cancel the run", type="primary", icon=":material/stop:"):
        st.session_state.pop("confirm_cancel", None)
        try:
            control.request_cancel(run_id, st.session_state["actor"])
        except UserError as error:
            st.info(str(error))
        else:
            st.toast("Cancel requested; the run stops at its next step and keeps what it trained.")
    if no.button("Keep it running", icon=":material/play_arrow:"):
        st.session_state.pop("confirm_cancel", None)


def draw_resume(run: Run, state: str) -> None:
    """Resume, for an ended run that can go on: failed, interrupted or cancelled, with a checkpoint to go on from."""
    job = queue.find_job(run.run_id)
    if state not in queue.RESUMABLE_STATES or job is None or job.active:
        return
    if checkpoints.latest_checkpoint(run.path, verify=False) is None:
        return
    if st.button("Resume from the last checkpoint", icon=":material/replay:"):
        try:
            control.resume(run.run_id, st.session_state["actor"])
        except UserError as error:
            st.error(str(error))
        else:
            st.rerun()
