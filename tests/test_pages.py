"""AppTest of every page, through app.py's st.navigation, with the real core underneath."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from workbench import jobs, runs
from workbench.config import RunConfig


APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_page(page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def texts(app: AppTest) -> str:
    parts = [
        element.value
        for kind in ("markdown", "success", "error", "info", "caption", "warning")
        for element in app.get(kind)
    ]
    return "\n".join(str(part) for part in parts)


def test_home_says_what_to_do_and_offers_the_demo(demo_home):
    app = open_page()
    assert "Try the built-in demo" in [header.value for header in app.subheader]
    assert "No runs yet" in texts(app)
    next(button for button in app.button if button.label == "Train the demo model").click().run()
    [job] = jobs.list_jobs()
    assert job.state == "queued" and runs.get_run(job.run_id).config.model == "demo"


def test_runs_and_playground_have_clear_empty_states(home):
    assert "No runs yet" in texts(open_page("pages/runs.py"))
    assert "No trained model yet" in texts(open_page("pages/playground.py"))


def test_runs_page_shows_scores_chart_and_download_for_a_finished_run(trained_home):
    app = open_page("pages/runs.py")
    assert "Succeeded" in texts(app)
    labels = [metric.label for metric in app.metric]
    assert labels == ["Held-out exact match, untrained", "Held-out exact match, trained"]
    [chart] = app.get("plotly_chart")
    names = [trace["name"] for trace in json.loads(chart.proto.spec)["data"]]
    assert names == ["training loss", "held-out loss"]
    assert app.get("download_button"), "the adapter download is offered"
    assert "Run record: who, on what, with which versions" in [expander.label for expander in app.expander]


def test_a_run_whose_queuing_failed_is_explained_not_a_crash(home):
    runs.create_run(RunConfig(run_name="half-made"))  # a run directory without a job row
    app = open_page("pages/runs.py")
    assert "has no place in the job queue" in texts(app)


def test_runs_page_shows_queue_position_for_a_waiting_run(demo_home):
    job = jobs.submit(RunConfig())
    app = open_page("pages/runs.py")
    assert "position 1 in the queue" in texts(app)
    assert any(button.label == "Cancel run" for button in app.button)
    assert job.state == "queued"


@pytest.mark.parametrize("system_prompt", ["", "Answer briefly."])
def test_playground_streams_a_reply_from_the_trained_adapter(trained_home, system_prompt):
    app = open_page("pages/playground.py")
    app.text_area(key="system_prompt").set_value(system_prompt)
    app.chat_input[0].set_value("Hello there").run()
    assert not app.exception
    roles = [message.name for message in app.chat_message]
    assert roles == ["user", "assistant"]
    history = app.session_state[f"chat_{trained_home.run_id}"]
    assert history[-1]["role"] == "assistant" and history[-1]["model"] == "tuned"
