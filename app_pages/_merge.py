"""The Runs page's merged-model export: start the merge, follow it, and download or locate the result."""

import streamlit as st

from app_pages._background import follow
from workbench.errors import UserError
from workbench.results import export, merge
from workbench.runs.directory import Run


def draw_merge(run: Run) -> None:
    """A bordered box offering the merge (adapter runs only), its live state, and the merged model when done."""
    if not run.is_adapter:
        return
    with st.container(border=True):
        st.markdown("**Merged model** · the adapter folded into the base weights, for tools that do not load adapters")
        state = merge.merge_state(run)
        if state.state == "running":
            follow(merge.merge_task(run), "Merging")
            return
        if state.state == "failed":
            st.error(state.message, icon=":material/error:")
        if state.state == "outdated":
            st.warning(state.message, icon=":material/update:")
        if state.state == "succeeded":
            draw_result(run, state)
        label = "Merge again" if state.state in ("succeeded", "outdated") else "Merge into the base model"
        if st.button(label, icon=":material/merge:", key=f"merge-{run.run_id}"):
            try:
                merge.start_merge(run, st.session_state["actor"])
            except UserError as error:
                st.error(str(error))
            else:
                st.rerun()


def draw_result(run: Run, state: merge.MergeState) -> None:
    folder = merge.merged_dir(run)
    st.success(f"{state.message} ({state.size_bytes / 1e6:,.1f} MB)", icon=":material/check_circle:")
    if state.size_bytes > merge.BROWSER_DOWNLOAD_LIMIT_BYTES:
        st.caption(f"Too large to download through the browser; copy it from the server: `{folder}`")
        return
    actor = st.session_state["actor"]  # read here: the zip is built on the click, outside this script run
    st.download_button(
        "Download the merged model (.zip)",
        lambda: export.merged_zip_bytes(folder, run, actor),  # built on click, not on every redraw
        file_name=export.merged_zip_name(run),
        mime="application/zip",
        icon=":material/download:",
        key=f"merged-download-{run.run_id}",
    )
