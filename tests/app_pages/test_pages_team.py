"""AppTest of what team mode adds to the pages: the warning when the app is exposed without it, the Admin page (the
local user is an admin) with device time and the audit log, and the entry point imported outside Streamlit.
Signed-in team pages: test_e2e_team.py."""

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from workbench.config import RunConfig
from workbench.jobs import control


ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


@pytest.fixture
def listening_everywhere():
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    yield
    config.set_option("server.address", before)


def warnings_of(app: AppTest) -> list[str]:
    return [str(element.value) for element in app.warning]


def test_every_page_warns_when_the_app_listens_beyond_this_machine_without_team_mode(home, listening_everywhere):
    for page in (None, "app_pages/runs.py"):
        app = AppTest.from_file(APP, default_timeout=120).run()
        if page:
            app.switch_page(page).run()
        assert any("listens on 0.0.0.0 without team mode" in text for text in warnings_of(app)), page


def test_no_warning_on_this_machine_only(home):
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not any("without team mode" in text for text in warnings_of(app))
    assert not any("Signed in as" in str(caption.value) for caption in app.caption), "local mode has no sign-in"


def test_the_admin_page_shows_the_audit_log_with_its_filters(home):
    job = control.submit(RunConfig(run_name="pilot"))
    control.request_cancel(job.run_id)
    app = AppTest.from_file(APP, default_timeout=120).run()
    app.switch_page("app_pages/admin.py").run()
    assert not app.exception, app.exception
    log = app.dataframe[0].value
    assert list(log["action"])[:2] == ["cancel", "queue"] and list(log["target"])[:2] == [job.run_id] * 2
    app.selectbox(key="audit_action").set_value("queue").run()
    assert list(app.dataframe[0].value["action"]) == ["queue"]
    assert "No training in the last 7 days." in [caption.value for caption in app.caption]


def test_the_entry_point_runs_nothing_when_a_worker_process_imports_it(team_home):
    """The fork server that checks uploads re-imports the main module's file as ``__mp_main__`` in every child; in
    team mode that once drew the whole app outside Streamlit and failed for want of a user, so every upload read as
    'needed more than 2 GB of memory'."""
    imported = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('app.py', run_name='__mp_main__')"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert "ScriptRunContext" not in imported.stderr, "no Streamlit call ran"
