"""Home: what the workbench is for, what to do next, and the one-click built-in demo."""

import streamlit as st

from workbench.jobs import control
from workbench.planning import presets
from workbench.runs import directory


st.title("SFT Workbench")
st.write(
    "Fine-tune a language model on your own conversations: check the data, pick settings, train in the "
    "background, watch it learn, chat with the result and download the adapter."
)

steps = st.columns(4)
steps[0].page_link("app_pages/data.py", label="1. Check your data", icon=":material/dataset:")
steps[1].page_link("app_pages/train.py", label="2. Train", icon=":material/tune:")
steps[2].page_link("app_pages/runs.py", label="3. Watch progress", icon=":material/monitoring:")
steps[3].page_link("app_pages/playground.py", label="4. Chat and download", icon=":material/chat:")

with st.container(border=True):
    st.subheader("Try the built-in demo")
    st.write(
        "A tiny model that runs offline learns to answer a small question format from the demo dataset. "
        "Training takes about a minute on a CPU; afterwards the Runs page compares its held-out score with "
        "the untrained model, and the Playground lets you chat with it."
    )
    if st.button("Train the demo model", type="primary", icon=":material/play_arrow:"):
        job = control.submit(presets.demo_config(), st.session_state["actor"], browser=True)
        st.session_state["selected_run"] = job.run_id
        st.switch_page("app_pages/runs.py")

recent = control.visible_runs(st.session_state["actor"])[:5]
if recent:
    st.subheader("Recent runs")
    for run in recent:
        status = directory.read_status(run.path)
        st.write(f"**{run.run_id}** · {status.state} · {run.config.model} · {run.config.method}")
else:
    st.caption("No runs yet. Start with the demo, or upload your own data on the Data page.")
