"""Runs: live progress, the loss chart, held-out scores, cancel and adapter download for each run."""

import streamlit as st

from app_pages import _form as form
from app_pages._checkpoints import draw_checkpoints
from app_pages._cleanup import draw_cleanup
from app_pages._controls import draw_cancel, draw_resume
from app_pages._evaluation import draw_evaluation
from app_pages._judge import draw_judge
from app_pages._merge import draw_merge
from app_pages._progress import draw_progress
from app_pages._queue import draw_queue
from app_pages._scores import draw_scores
from app_pages._sharing import draw_sharing
from workbench import charts
from workbench.data import sources
from workbench.jobs import board, control, health, queue
from workbench.results import export
from workbench.runs import directory, record


st.title("Runs")
all_runs = control.visible_runs(st.session_state["actor"])
if not all_runs:
    st.info("No runs yet. Start one from the Train page, or train the demo from Home.", icon=":material/monitoring:")
    st.stop()

seen = board.fingerprint()
draw_queue()
run_ids = [run.run_id for run in all_runs]
selected = st.session_state.get("selected_run")
run_id = st.selectbox("Run", run_ids, index=run_ids.index(selected) if selected in run_ids else 0)
st.session_state["selected_run"] = run_id
run = directory.get_run(run_id)
config = run.config
st.caption(
    f"Model: {config.model} · method: {config.method} · dataset: {sources.dataset_label(config.dataset)} · "
    f"epochs: {config.num_train_epochs:g}"
)


def watch(live: bool) -> None:
    """Polled every second while any job is active: the whole page is drawn again the moment a job starts or ends,
    so the job table, its count, this panel and its buttons change together; the live panel in between."""
    if board.fingerprint() != seen:
        st.rerun()
    if live:
        for warning in (health.runner_warning(), health.job_warning(run.run_id)):
            if warning:
                st.warning(warning, icon=":material/warning:")
        draw_progress(run)
        draw_cancel(run.run_id)


def finished_panel() -> None:
    if queue.find_job(run.run_id) is None and directory.read_status(run.path).state == "queued":
        message = "This run has no place in the job queue (queuing it failed), so it will never start; start it again."
        st.warning(message, icon=":material/warning:")
    draw_progress(run)
    state = board.shown_state(*board.run_view(run.run_id))
    draw_scores(run)
    draw_evaluation(run)
    draw_judge(run)
    draw_checkpoints(run)
    if run.has_output:
        st.download_button(
            "Download adapter (.zip)" if run.is_adapter else "Download the trained model (.zip)",
            export.adapter_zip_bytes(run, st.session_state["actor"]),
            file_name=export.adapter_zip_name(run),
            mime="application/zip",
            icon=":material/download:",
            type="primary",
            on_click=export.record_download,
            args=(run, st.session_state["actor"]),
        )
        draw_sharing("run", run.run_id, control.run_owner(run.run_id))
        st.page_link("app_pages/playground.py", label="Chat with this model in the Playground", icon=":material/chat:")
        draw_merge(run)
    if st.button("Train again with these settings", icon=":material/content_copy:"):
        st.session_state[form.VALUES] = {**config.to_dict(), "run_name": ""}  # the Train page edits these
        st.session_state["train_preset"] = None  # keep the settings exactly; a preset would overwrite them
        st.session_state["train_parent"] = run.run_id
        st.switch_page("app_pages/train.py")
    draw_resume(run, state)
    if state in ("failed", "interrupted"):
        with st.expander("Last lines of the training log"):
            st.code(directory.tail_log(run.path, 6000) or "(empty)")
        if cluster_log := directory.tail_log(run.path, 6000, directory.BACKEND_LOG_FILE):
            with st.expander("The cluster's own log of the job"):
                st.code(cluster_log)
    draw_cleanup(run)
    kept = record.read_record(run.path)
    if facts := record.record_facts(kept):
        with st.expander("Run record: who, on what, with which versions", icon=":material/receipt_long:"):
            if phases := record.phases(kept):
                st.caption("Where the time went, from Start to the end (hover a part for its seconds)")
                st.plotly_chart(charts.phases_figure(phases), width="stretch")
            st.dataframe([{"": label, "value": value} for label, value in facts], hide_index=True, width="stretch")


job = queue.find_job(run.run_id)
if board.settled(job):
    finished_panel()
if board.anything_active(seen):
    st.fragment(run_every=1.0)(watch)(live=not board.settled(job))
