"""Compare: several runs' loss curves on one chart, their results side by side, and the settings that differ."""

import streamlit as st

from app_pages._diagnostics import draw_findings
from workbench import charts
from workbench.jobs import control
from workbench.results import comparison
from workbench.runs import directory


st.title("Compare runs")
all_runs = control.visible_runs(st.session_state["actor"])
if len(all_runs) < 2:
    st.info(
        "Comparing needs at least two runs. Train another one from the Train page, for example with a different "
        "learning rate or preset, and come back.",
        icon=":material/compare_arrows:",
    )
    st.stop()

run_ids = [run.run_id for run in all_runs]
with_curves = [run.run_id for run in all_runs if directory.read_metrics(run.path)]
if "compare_runs" not in st.session_state:
    st.session_state["compare_runs"] = (with_curves or run_ids)[:3]
st.session_state["compare_runs"] = [run_id for run_id in st.session_state["compare_runs"] if run_id in run_ids]
chosen = st.multiselect("Runs to compare", run_ids, key="compare_runs", max_selections=8, placeholder="Pick runs")
if len(chosen) < 2:
    st.caption("Pick two or more runs above.")
    if not chosen:
        st.stop()

compared = [run for run in all_runs if run.run_id in chosen]
curves = {run.run_id: directory.read_metrics(run.path) for run in compared}
if any(curves.values()):
    st.plotly_chart(charts.comparison_figure(curves), width="stretch")
else:
    st.caption("None of these runs has logged a loss yet.")

outcomes = [comparison.outcome(run) for run in compared]
st.subheader("Results")
st.dataframe(comparison.outcome_rows(outcomes), hide_index=True, width="stretch")

st.subheader("Settings")
every_setting = st.toggle("Show every setting", key="compare_every_setting")
settings = comparison.settings_rows(compared, only_differing=not every_setting)
if settings:
    st.dataframe(settings, hide_index=True, width="stretch")
else:
    st.caption("These runs used the same settings.")

troubled = [item for item in outcomes if item.findings]
if troubled:
    st.subheader("Diagnostics")
    for item in troubled:
        st.markdown(f"**{item.run_id}**")
        draw_findings(item.findings)
