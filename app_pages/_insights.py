"""What the Runs page shows under the loss chart: diagnostics, the other training signals, answers during training."""

import streamlit as st

from app_pages._diagnostics import draw_findings
from app_pages._samples import draw_samples
from workbench import charts
from workbench.results import diagnostics
from workbench.runs import held_out_scores
from workbench.runs.directory import Run


def draw_insights(run: Run, metrics: list[dict]) -> None:
    draw_findings(diagnostics.diagnose(metrics) + diagnostics.diagnose_answers(held_out_scores.read_scores(run.path)))
    if signals := charts.training_signals(metrics):
        with st.expander("Learning rate, gradient norm, accuracy and speed", icon=":material/insights:"):
            columns = st.columns(2)
            for index, (key, points) in enumerate(signals.items()):
                figure = charts.signal_figure(points, charts.TRAINING_SIGNALS[key])
                columns[index % 2].plotly_chart(figure, width="stretch", key=f"signal_{key}")
    draw_samples(run)
