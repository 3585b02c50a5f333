"""SFT Workbench: the Streamlit entry point. It signs the user in (team mode), sets up the frame and routes to the
pages in app_pages/."""

import streamlit as st

from app_pages import _account
from workbench.jobs import runner
from workbench.team import settings


st.set_page_config(page_title="SFT Workbench", page_icon=":material/model_training:", layout="wide")
_account.warn_if_exposed()
# Who is asking: every page passes it to the core, which decides what they may see and do.
actor = st.session_state["actor"] = _account.gate()

pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/data.py", title="Data", icon=":material/dataset:"),
    st.Page("app_pages/datasets.py", title="Datasets", icon=":material/folder_open:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/tune:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/monitoring:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("app_pages/playground.py", title="Playground", icon=":material/chat:"),
]
if settings.current().team:
    pages.append(st.Page("app_pages/account.py", title="Account", icon=":material/key:"))
if actor.admin:
    pages.append(st.Page("app_pages/admin.py", title="Admin", icon=":material/admin_panel_settings:"))
navigation = st.navigation(pages)
_account.draw_identity(actor)
# Training runs in the runner process, never here. Start one unless it is managed elsewhere (e.g. by systemd).
if runner.start_allowed():
    runner.ensure_runner()
navigation.run()
