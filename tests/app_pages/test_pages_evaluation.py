"""AppTest of the Runs page's evaluation: a click has the base and the trained model answer every held-out
conversation through the model server (no weights in the web process), and the scores and answers stay with the
run."""

import re

from conftest import copy_trained_run
from test_pages import open_page, texts

from workbench.models import loading
from workbench.results import evaluate
from workbench.runs import directory


def test_a_click_evaluates_the_run_and_the_answers_stay_with_it(demo_home, trained_demo, monkeypatch):
    def no_weights_here(*args, **kwargs):
        raise AssertionError("the web process loaded model weights")

    monkeypatch.setattr(loading, "load_model", no_weights_here)
    copy_trained_run(trained_demo, demo_home)
    app = open_page("app_pages/runs.py")
    assert "every answer is scored" in texts(app), "what the evaluation will do, before it is run"
    next(button for button in app.button if button.label == "Evaluate now").click().run(timeout=300)
    assert not app.exception, app.exception
    summary = r"On the held-out split \(64 conversations\), untrained -> trained: Exact match \d+% -> \d+%"
    assert re.search(summary, texts(app)), texts(app)
    [table] = [frame for frame in app.dataframe if "trained F1" in frame.value.columns]
    assert len(table.value) == 64 and table.value["trained matches"].sum() >= 0.8 * 64
    assert evaluate.read_evaluation(directory.get_run(trained_demo.run_id)).n == 64, "kept with the run"
    again = open_page("app_pages/runs.py")
    assert any(button.label == "Evaluate again" for button in again.button), "a new visit shows the saved one"
