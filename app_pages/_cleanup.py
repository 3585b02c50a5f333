"""The Runs page's disk box: delete a finished run's checkpoints, or the whole run, after a confirmation."""

from collections.abc import Callable

import streamlit as st

from workbench.errors import UserError
from workbench.results import cleanup
from workbench.runs import directory
from workbench.runs.directory import Run


def draw_cleanup(run: Run) -> None:
    actor = st.session_state["actor"]
    checkpoint_mb = cleanup.folder_bytes(run, directory.CHECKPOINTS_DIR) / 1e6
    with st.expander(f"Disk: {cleanup.folder_bytes(run) / 1e6:,.1f} MB in all", icon=":material/hard_drive:"):
        if (
            checkpoint_mb
            and st.button(
                f"Delete the checkpoints ({checkpoint_mb:,.1f} MB); keep the trained model",
                help="Checkpoints are only needed to resume the run.",
                icon=":material/delete_sweep:",
                key=f"delete_checkpoints_{run.run_id}",  # a click is for this run, even if the list changed meanwhile
            )
            and act(lambda: cleanup.delete_checkpoints(run, actor), f"Freed {checkpoint_mb:,.1f} MB.")
        ):
            st.rerun()
        sure = st.checkbox("I want to delete this run, its trained model and its charts", key=f"delete_{run.run_id}")
        delete = st.button(
            "Delete this run", icon=":material/delete_forever:", disabled=not sure, key=f"delete_run_{run.run_id}"
        )
        if delete and act(lambda: cleanup.delete_run(run, actor), f"Deleted {run.run_id}."):
            st.session_state.pop("selected_run", None)
            st.rerun()


def act(action: Callable[[], object], done: str) -> bool:
    """Run a deletion; on a refusal say why (False), on success confirm with a toast (True)."""
    try:
        action()
    except UserError as error:
        st.error(str(error))
        return False
    st.toast(done)
    return True
