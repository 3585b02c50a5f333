"""Runs: live progress, the loss chart, held-out scores, cancel and adapter download for each run."""

import streamlit as st

from app_pages import _form as form
from app_pages._cancel import draw_cancel
from app_pages._cleanup import draw_cleanup
from app_pages._insights import draw_insights
from app_pages._merge import draw_merge
from app_pages._queue import draw_queue
from workbench import charts, words
from workbench.errors import UserError
from workbench.jobs import control, health, queue
from workbench.results import answer_tables, export
from workbench.runs import checkpoints, directory, record


st.title("Runs")
all_runs = directory.list_runs()
if not all_runs:
    st.info("No runs yet. Start one from the Train page, or train the demo from Home.", icon=":material/monitoring:")
    st.stop()

draw_queue()
run_ids = [run.run_id for run in all_runs]
selected = st.session_state.get("selected_run")
run_id = st.selectbox("Run", run_ids, index=run_ids.index(selected) if selected in run_ids else 0)
st.session_state["selected_run"] = run_id
run = directory.get_run(run_id)
config = run.config
st.caption(
    f"Model: {config.model} · method: {config.method} · dataset: {config.dataset} · epochs: {config.num_train_epochs}"
)

LOG_LINES = 8  # of the training log, shown live under the progress bar
STATE_ICONS = {
    "queued": ":material/schedule:",
    "starting": ":material/rocket_launch:",
    "running": ":material/directions_run:",
    "succeeded": ":green[:material/check_circle:]",
    "failed": ":red[:material/error:]",
    "cancelled": ":material/stop_circle:",
    "interrupted": ":orange[:material/warning:]",
}


def draw_progress() -> None:
    status = directory.read_status(run.path)
    position = queue.queue_position(run.run_id)
    headline = f"{STATE_ICONS.get(status.state, ':material/help:')} **{status.state.capitalize()}**"
    if position:
        headline += f" · position {position} in the queue"
    st.markdown(f"{headline} · {status.message}")
    detail = (
        f"Step {status.step} of {status.max_steps or '?'} · epoch {status.epoch:.2f} of "
        f"{status.num_epochs or config.num_train_epochs:g} · elapsed {words.format_duration(status.elapsed_s())}"
    )
    if status.state == "running":
        detail += f" · ETA {words.format_duration(status.eta_s())}"
        if status.memory_gb is not None:
            detail += f" · {status.memory_place or 'memory'} in use {status.memory_gb:.1f} GB"
    st.progress(status.fraction, text=detail)
    if status.state == "running":
        last_lines = directory.tail_log(run.path, 4000).splitlines()[-LOG_LINES:]
        st.code("\n".join(last_lines) or "(nothing logged yet)", language=None, height=160)
    metrics = directory.read_metrics(run.path)
    if metrics:
        st.plotly_chart(charts.loss_figure(metrics), width="stretch")
        draw_insights(run, metrics)
    else:
        st.caption("The loss chart appears after the first training steps.")


def finished() -> bool:
    """The training process wrote its final state (the runner may still be tidying up), or the job has ended."""
    job = queue.find_job(run.run_id)
    return directory.read_status(run.path).finished or job is None or not job.active


@st.fragment(run_every=1.0)
def live_panel() -> None:
    """Redrawn every second while the job is queued or running; redraws the whole page once it ends."""
    if finished():
        st.rerun()
    for warning in (health.runner_warning(), health.job_warning(run.run_id)):
        if warning:
            st.warning(warning, icon=":material/warning:")
    draw_progress()
    draw_cancel(run.run_id)


def finished_panel() -> None:
    if queue.find_job(run.run_id) is None and directory.read_status(run.path).state == "queued":
        message = "This run has no place in the job queue (queuing it failed), so it will never start; start it again."
        st.warning(message, icon=":material/warning:")
    draw_progress()
    state = directory.read_status(run.path).state
    scores = directory.read_scores(run.path)
    if scores.tuned:
        before = scores.base.exact_match if scores.base else 0.0
        left, right = st.columns(2)
        left.metric("Held-out exact match, untrained", f"{before:.0%}")
        after = scores.tuned.exact_match
        right.metric("Held-out exact match, trained", f"{after:.0%}", delta=f"{after - before:+.0%}")
        if answers := answer_tables.side_by_side(scores):
            with st.expander(
                f"Held-out answers, untrained and trained (first {len(answers)})", icon=":material/rule:"
            ):
                st.dataframe(answers, hide_index=True, width="stretch")
    if run.has_output:
        try:
            st.download_button(
                "Download adapter (.zip)" if run.is_adapter else "Download the trained model (.zip)",
                export.adapter_zip_bytes(run),
                file_name=export.adapter_zip_name(run),
                mime="application/zip",
                icon=":material/download:",
                type="primary",
            )
        except UserError as error:
            st.error(str(error))
        st.page_link("app_pages/playground.py", label="Chat with this model in the Playground", icon=":material/chat:")
        draw_merge(run)
    if st.button("Train again with these settings", icon=":material/content_copy:"):
        st.session_state[form.VALUES] = {**config.to_dict(), "run_name": ""}  # the Train page edits these
        st.session_state["train_preset"] = None  # keep the settings exactly; a preset would overwrite them
        st.switch_page("app_pages/train.py")
    job = queue.find_job(run.run_id)
    resumable = state in queue.RESUMABLE_STATES and job is not None and not job.active
    resumable = resumable and checkpoints.latest_checkpoint(run.path, verify=False) is not None
    if resumable and st.button("Resume from the last checkpoint", icon=":material/replay:"):
        try:
            control.resume(run.run_id, user=st.session_state.get("user", ""))
        except UserError as error:
            st.error(str(error))
        else:
            st.rerun()
    if state in ("failed", "interrupted"):
        with st.expander("Last lines of the training log"):
            st.code(directory.tail_log(run.path, 6000) or "(empty)")
    draw_cleanup(run)
    if facts := record.record_facts(record.read_record(run.path)):
        with st.expander("Run record: who, on what, with which versions", icon=":material/receipt_long:"):
            st.dataframe([{"": label, "value": value} for label, value in facts], hide_index=True, width="stretch")


if finished():
    finished_panel()
else:
    live_panel()
