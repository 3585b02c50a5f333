"""SFT Workbench: the Streamlit entry point. It signs the user in (team mode), sets up the frame and routes to the
pages in app_pages/.

Streamlit runs this file as ``__main__``; the guard at the end keeps it from running anywhere else. The child
processes that check uploads come from a multiprocessing fork server, which re-imports the main module's file (as
``__mp_main__``) before the work starts: without the guard every check ran the whole app once more, outside
Streamlit, and in team mode failed for want of a signed-in user.
"""

import streamlit as st

from app_pages import _account
from workbench.jobs import runner_lock
from workbench.team import settings
from workbench.team.identity import Actor


def pages_for(actor: Actor) -> list:
    pages = [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/data.py", title="Data", icon=":material/dataset:"),
        st.Page("app_pages/datasets.py", title="Datasets", icon=":material/folder_open:"),
        st.Page("app_pages/train.py", title="Train", icon=":material/tune:"),
        st.Page("app_pages/runs.py", title="Runs", icon=":material/monitoring:"),
        st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("app_pages/arena.py", title="Arena", icon=":material/how_to_vote:"),
        st.Page("app_pages/playground.py", title="Playground", icon=":material/chat:"),
    ]
    if settings.current().team:
        pages.append(st.Page("app_pages/account.py", title="Account", icon=":material/key:"))
    if actor.admin:
        pages.append(st.Page("app_pages/admin.py", title="Admin", icon=":material/admin_panel_settings:"))
    return pages


def main() -> None:
    st.set_page_config(page_title="SFT Workbench", page_icon=":material/model_training:", layout="wide")
    _account.warn_if_exposed()
    # Who is asking: every page passes it to the core, which decides what they may see and do.
    actor = st.session_state["actor"] = _account.gate()
    navigation = st.navigation(pages_for(actor))
    _account.draw_identity(actor)
    # Training runs in the runner process, never here. Start one unless it is managed elsewhere (e.g. by systemd).
    if runner_lock.start_allowed():
        runner_lock.ensure_runner()
    navigation.run()


if __name__ == "__main__":
    main()
