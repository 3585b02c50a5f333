"""AppTest of the Runs page's optional judge (app_pages/_judge.py): shown only for an evaluated run, it offers the
models the user may use, judges through the model server on a click, and shows the scores as a model's opinion
beside what the judge wrote and the prompt it was given."""

import json

from conftest import copy_trained_run
from streamlit.testing.v1 import AppTest
from test_pages import rerun_until, texts

from workbench.config import DEMO_MODEL
from workbench.models import loading
from workbench.results import evaluate, judge
from workbench.runs import directory
from workbench.team.identity import Actor


SCORES = {"exact_match": 1, "f1": 1, "rouge_l": 1, "bleu": 1}
EXAMPLES = [
    {"question": "Where does Ana live?", "expected": "Lima", "base": "Ana was busy.", "tuned": "Lima"},
    {"question": "Where does Bo live?", "expected": "Rome", "base": "", "tuned": "Rome"},
]


def judge_fragment(run_id: str) -> None:
    from app_pages._judge import draw_judge
    from workbench.runs import directory

    draw_judge(directory.get_run(run_id))


def open_fragment(run_id: str) -> AppTest:
    app = AppTest.from_function(judge_fragment, args=(run_id,), default_timeout=120)
    app.session_state["actor"] = Actor("alice", "admin")
    return app.run()


def test_a_click_judges_the_answers_and_shows_them_as_a_model_s_opinion(demo_home, trained_demo, monkeypatch):
    def no_weights_here(*args, **kwargs):
        raise AssertionError("the web process loaded model weights")

    monkeypatch.setattr(loading, "load_model", no_weights_here)
    copy_trained_run(trained_demo, demo_home)
    assert not open_fragment(trained_demo.run_id).expander, "no judge before the run is evaluated"
    evaluation = {"source": "s", "n": 2, "base": SCORES, "tuned": SCORES, "examples": EXAMPLES}
    (demo_home / "runs" / trained_demo.run_id / evaluate.EVALUATION_FILE).write_text(json.dumps(evaluation))
    app = open_fragment(trained_demo.run_id)
    assert "a model's opinion, not a measurement" in texts(app) and not app.expander[0].proto.expanded, "folded"
    [models] = [box for box in app.selectbox if box.label == "Judge model"]
    assert models.options[0] == DEMO_MODEL and trained_demo.run_id in models.options, "a base model first"
    assert app.text_area[0].value == judge.DEFAULT_RUBRIC
    app.text_area[0].set_value("10: the right city. 1: a wrong one.")
    next(button for button in app.button if button.label == "Judge the answers").click().run()
    assert not app.exception and not app.error, (app.exception, [error.value for error in app.error])
    rerun_until(
        app, lambda page: judge.read_judgement(directory.get_run(trained_demo.run_id)) and not page.get("progress")
    )
    assert not app.error, [error.value for error in app.error]
    saved = judge.read_judgement(directory.get_run(trained_demo.run_id))
    [info] = app.info
    assert info.value == judge.summary(saved), "the judgement in one sentence"
    [section] = app.expander
    assert section.proto.expanded, "the result it was waited for stays open when the judging ends"
    [table] = app.dataframe
    assert list(table.value["question"]) == [row["question"] for row in EXAMPLES]
    assert {"trained score", "untrained score", "judge on the trained answer"} <= set(table.value.columns)
    assert saved.rubric == "10: the right city. 1: a wrong one." and saved.n == 2, "kept with the run"
    [prompt_for] = [box for box in app.selectbox if box.label == "See the judge's prompt for"]
    prompt_for.set_value(prompt_for.options[1]).run()
    shown = [block.value for block in app.code]
    assert len(shown) == 2 and all("Where does Bo live?" in text and "--- judge ---" in text for text in shown)
    assert any(button.label == "Judge the answers again" for button in app.button)
