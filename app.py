"""SFT Workbench: the Streamlit entry point. It only sets up the frame and routes to the pages in app_pages/."""

import streamlit as st

from workbench import people
from workbench.jobs import runner


st.set_page_config(page_title="SFT Workbench", page_icon=":material/model_training:", layout="wide")
# The name an authenticating proxy passes, so that jobs and dataset versions say who made them.
st.session_state["user"] = people.user_from_headers(st.context.headers)

navigation = st.navigation(
    [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/data.py", title="Data", icon=":material/dataset:"),
        st.Page("app_pages/datasets.py", title="Datasets", icon=":material/folder_open:"),
        st.Page("app_pages/train.py", title="Train", icon=":material/tune:"),
        st.Page("app_pages/runs.py", title="Runs", icon=":material/monitoring:"),
        st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("app_pages/playground.py", title="Playground", icon=":material/chat:"),
    ]
)
# Training runs in the runner process, never here. Start one unless it is managed elsewhere (e.g. by systemd).
if runner.start_allowed():
    runner.ensure_runner()
navigation.run()
