"""The Runs page's progress block: the state (as the job table shows it), the progress bar, the live log and memory
while training, and the loss chart with its diagnostics."""

import streamlit as st

from app_pages._insights import draw_insights
from workbench import charts, words
from workbench.jobs import backend, board, fairness
from workbench.models import device
from workbench.runs import directory
from workbench.runs.directory import Run


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


def draw_progress(run: Run) -> None:
    job, status = board.run_view(run.run_id)
    state = board.shown_state(job, status)
    headline = f"{STATE_ICONS.get(state, ':material/help:')} **{state.capitalize()}**"
    if job is not None and job.state == "queued":
        headline += queue_place(run.run_id)
    if job is not None and job.backend != "local":
        headline += f" · on {backend.where(job)}"
    st.markdown(f"{headline} · {board.shown_message(job, status)}")
    detail = (
        f"Step {status.step} of {status.max_steps or '?'} · epoch {status.epoch:.2f} of "
        f"{status.num_epochs or run.config.num_train_epochs:g} · elapsed {words.format_duration(status.elapsed_s())}"
    )
    training = state == "running" and status.state == "running"
    if training:
        detail += f" · ETA {words.format_duration(status.eta_s())}"
        if status.memory_gb is not None:
            detail += f" · {status.memory_place or 'memory'} in use {status.memory_gb:.1f} GB"
    st.progress(status.fraction, text=detail)
    if training:
        last_lines = directory.tail_log(run.path, 4000).splitlines()[-LOG_LINES:]
        st.code("\n".join(last_lines) or "(nothing logged yet)", language=None, height=160)
    metrics = directory.read_metrics(run.path)
    if metrics:
        st.plotly_chart(charts.loss_figure(metrics), width="stretch")
        draw_insights(run, metrics)
    else:
        st.caption("The loss chart appears after the first training steps.")


def queue_place(run_id: str) -> str:
    """' · 2nd in the queue, expected to start in 12 min', or why it waits."""
    place = fairness.places(max(1, len(device.gpus()))).get(run_id)
    if place is None:
        return ""
    if place.position is None:
        return f" · {place.note}"
    when = "" if place.starts_in_s is None else f", expected to start in {words.format_duration(place.starts_in_s)}"
    return f" · position {place.position} in the queue{when}"
