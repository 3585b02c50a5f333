"""AppTest of the Runs page's evaluation: a click has the base and the trained model answer every held-out
conversation through the model server (no weights in the web process), and the scores and answers stay with the
run."""

import re

from conftest import copy_trained_run, wait_for
from test_pages import open_page, rerun_until, texts

from workbench.models import loading
from workbench.results import background, evaluate, evaluation_tasks
from workbench.runs import checkpoints, directory


def test_a_click_evaluates_the_run_and_the_answers_stay_with_it(demo_home, trained_demo, monkeypatch):
    def no_weights_here(*args, **kwargs):
        raise AssertionError("the web process loaded model weights")

    monkeypatch.setattr(loading, "load_model", no_weights_here)
    copy_trained_run(trained_demo, demo_home)
    app = open_page("app_pages/runs.py")
    assert "every answer is scored" in texts(app), "what the evaluation will do, before it is run"
    next(button for button in app.button if button.label == "Evaluate now").click().run()
    assert not app.exception, app.exception
    assert "goes on in a process of its own" in texts(app), "the page follows the evaluation's own process"
    assert app.button(key="evaluate").disabled, "one evaluation of a run at a time"
    summary = r"On the held-out split \(64 conversations\), untrained -> trained: Exact match \d+% -> \d+%"
    rerun_until(app, lambda page: re.search(summary, texts(page)))
    [table] = [frame for frame in app.dataframe if "trained F1" in frame.value.columns]
    assert len(table.value) == 64 and table.value["trained matches"].sum() >= 0.8 * 64
    assert evaluate.read_evaluation(directory.get_run(trained_demo.run_id)).n == 64, "kept with the run"
    again = open_page("app_pages/runs.py")
    assert any(button.label == "Evaluate again" for button in again.button), "a new visit shows the saved one"


def test_a_checkpoint_is_evaluated_promoted_and_undone_from_the_runs_page(demo_home, trained_demo, monkeypatch):
    def no_weights_here(*args, **kwargs):
        raise AssertionError("the web process loaded model weights")

    monkeypatch.setattr(loading, "load_model", no_weights_here)
    monkeypatch.setenv(evaluate.MAX_EVALUATED_SETTING, "4")  # the answers are the other test's concern; keep it quick
    copy_trained_run(trained_demo, demo_home, with_checkpoints=True)
    run = directory.get_run(trained_demo.run_id)
    app = open_page("app_pages/runs.py")
    table = checkpoint_table(app)
    assert list(table["checkpoint"]) == [128, 160] and not table["answers now"].any()
    assert "lowest held-out loss" in texts(app)
    app.selectbox(key="ckpt").select(128).run()
    app.button(key="evaluate_checkpoint").click().run()
    assert "Evaluating checkpoint 128" in texts(app) or app.get("progress"), "followed on the page"
    task = evaluation_tasks.evaluation_task(run)
    rerun_until(app, lambda page: checkpoint_table(page)["token F1"].notna().iloc[0])
    wait_for(lambda: not background.read_state(task).running, timeout=60, what="the evaluation process to end")
    assert evaluate.read_evaluation(run, 128).n == 4
    assert checkpoint_table(app)["token F1"].iloc[0] == evaluate.read_evaluation(run, 128).tuned["f1"]
    app.selectbox(key="ckpt").select(128).run()
    app.button(key="promote").click().run()
    assert "This run answers with checkpoint 128" in texts(app)
    assert checkpoints.promoted_step(run.path) == 128
    app.button(key="restore_final").click().run()
    assert checkpoints.promoted_step(run.path) is None and "answers with checkpoint" not in texts(app)


def checkpoint_table(app):
    [table] = [frame.value for frame in app.dataframe if "held-out loss" in frame.value.columns]
    return table


def test_a_saved_dataset_is_evaluated_and_one_answer_is_read_against_its_reference(
    demo_home, trained_demo, monkeypatch
):
    from workbench.data import library, validation
    from workbench.models.demo_task import DEMO_HELDOUT_FILE

    copy_trained_run(trained_demo, demo_home)
    content = "".join(DEMO_HELDOUT_FILE.read_text().splitlines(keepends=True)[:3]).encode()
    version = library.create_dataset("capitals.jsonl", content, validation.validate(content, "capitals.jsonl"))
    app = open_page("app_pages/runs.py")
    app.selectbox(key="evaluate_on").select(f"the dataset {version.label}").run()
    app.button(key="evaluate").click().run()
    rerun_until(app, lambda page: f"On the dataset {version.label} (3 conversations)" in texts(page))
    assert "Answer-token loss" in texts(app) and "ends its answers by itself" in texts(app)
    worst_first = app.selectbox(key="evaluation_example")
    assert len(worst_first.options) == 3 and worst_first.options[0].startswith("F1 ")
    shown = [element.proto.body for element in app.get("html")]
    assert len(shown) == 2 and all("<span" in body for body in shown), "the trained and untrained answers, diffed"
