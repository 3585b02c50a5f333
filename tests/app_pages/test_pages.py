"""AppTest of every page, through app.py's st.navigation, with the real core underneath."""

import json
from pathlib import Path

from conftest import copy_trained_run, wait_for
from streamlit.testing.v1 import AppTest

from workbench.config import RunConfig
from workbench.jobs import control, queue
from workbench.results import merge
from workbench.runs import directory
from workbench.team.identity import Actor


APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_page(page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def rerun_until(app: AppTest, done, timeout: float = 300.0) -> AppTest:
    """Run the page again until ``done(app)``: work the page started in a process of its own (an evaluation, a
    judgement, a merge) shows on a later run of it."""
    wait_for(lambda: done(app.run()), timeout=timeout, interval=1.0, what="the page to show the finished work")
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
    [job] = queue.list_jobs()
    assert job.state == "queued" and directory.get_run(job.run_id).config.model == "demo"


def test_runs_and_playground_have_clear_empty_states(home):
    assert "No runs yet" in texts(open_page("app_pages/runs.py"))
    assert "No trained model yet" in texts(open_page("app_pages/playground.py"))


def test_runs_page_shows_scores_chart_and_download_for_a_finished_run(trained_home):
    app = open_page("app_pages/runs.py")
    assert "Succeeded" in texts(app)
    labels = [metric.label for metric in app.metric]
    assert labels == ["Exact match", "Token F1", "ROUGE-L", "BLEU"]
    assert all(metric.value.endswith("%") and metric.delta for metric in app.metric), "trained, with its change"
    loss_chart, *other_charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    assert [trace["name"] for trace in loss_chart["data"]] == ["training loss", "held-out loss"]
    titles = {chart["layout"]["title"]["text"] for chart in other_charts if "title" in chart["layout"]}
    assert titles == {"learning rate", "gradient norm", "answer-token accuracy", "tokens per second"}
    assert sum("yaxis2" in chart["layout"] for chart in other_charts) == 1, "the checkpoints' timeline"
    assert app.get("download_button"), "the adapter download is offered"
    assert "Run record: who, on what, with which versions" in [expander.label for expander in app.expander]
    answers = next(frame.value for frame in app.dataframe if "untrained" in frame.value.columns)
    assert list(answers.columns) == ["question", "expected", "untrained", "trained", "match"]
    assert (answers["match"] == "yes").mean() >= 0.8


def test_a_run_whose_queuing_failed_is_explained_not_a_crash(home):
    directory.create_run(RunConfig(run_name="half-made"))  # a run directory without a job row
    app = open_page("app_pages/runs.py")
    assert "has no place in the job queue" in texts(app)
    directory.update_status(directory.get_run(app.session_state["selected_run"]).path, state="succeeded")
    assert "has no place in the job queue" not in texts(app.run()), "a finished run needs no place in the queue"


def test_runs_page_shows_queue_position_for_a_waiting_run(demo_home):
    job = control.submit(RunConfig())
    app = open_page("app_pages/runs.py")
    assert "position 1 in the queue" in texts(app)
    assert any(button.label == "Cancel run" for button in app.button)
    assert job.state == "queued"


def test_cancel_asks_for_a_second_click_before_it_stops_a_run(demo_home):
    job = control.submit(RunConfig())
    app = open_page("app_pages/runs.py")
    next(button for button in app.button if button.label == "Cancel run").click().run()
    assert "Cancel this run?" in texts(app) and queue.get_job(job.run_id).state == "queued", "not yet"
    next(button for button in app.button if button.label == "Keep it running").click().run()
    assert queue.get_job(job.run_id).state == "queued"
    next(button for button in app.button if button.label == "Cancel run").click().run()
    next(button for button in app.button if button.label == "Yes, cancel the run").click().run()
    assert not app.exception and queue.get_job(job.run_id).state == "cancelled"


def test_compare_page_needs_two_runs(home):
    assert "Comparing needs at least two runs" in texts(open_page("app_pages/compare.py"))


def test_compare_page_overlays_the_runs_and_shows_only_the_settings_that_differ(home, trained_demo):
    for run_id, learning_rate in (("20260101-000000-fast", 4e-3), ("20260101-000001-slow", 1e-3)):
        copy = copy_trained_run(trained_demo, home, run_id)
        config = RunConfig.load(copy / "config.yaml")
        config.learning_rate = learning_rate
        config.save(copy / "config.yaml")
    app = open_page("app_pages/compare.py")
    [chart] = app.get("plotly_chart")
    names = {trace["name"] for trace in json.loads(chart.proto.spec)["data"]}
    assert names == {
        f"{run} · {loss}"
        for run in ("20260101-000000-fast", "20260101-000001-slow")
        for loss in ("training", "held-out")
    }
    results, settings = app.dataframe
    assert list(results.value["exact match, trained"]) == ["100%", "100%"]
    assert list(settings.value["setting"]) == ["Learning rate"]
    assert list(settings.value.iloc[0][1:]) == ["0.001", "0.004"]
    app.toggle(key="compare_every_setting").set_value(True).run()
    assert len(app.dataframe[1].value) > 20


def test_runs_page_merges_the_adapter_and_offers_the_merged_download(demo_home, trained_demo):
    run = directory.get_run(copy_trained_run(trained_demo, demo_home).name)
    app = open_page("app_pages/runs.py")
    [merge_button] = [button for button in app.button if button.label == "Merge into the base model"]
    merge_button.click().run()  # starts the detached merge process
    assert not app.exception, app.exception
    wait_for(lambda: merge.merge_state(run).state != "running", timeout=120, what="the merge process")
    app.run()
    assert "Merged model saved in" in texts(app), merge.merge_task(run).log_path.read_text()
    labels = [button.label for button in app.get("download_button")]
    assert "Download the merged model (.zip)" in labels
    assert any(button.label == "Merge again" for button in app.button)


def test_train_again_opens_the_train_page_with_the_runs_settings(demo_home, trained_demo):
    copy = copy_trained_run(trained_demo, demo_home)
    config = RunConfig.load(copy / "config.yaml")
    dataset = Path(__file__).parent / "datasets" / "llamafactory_identity.json"
    config.learning_rate, config.run_name, config.dataset = 1.5e-3, "first try", str(dataset)
    config.save(copy / "config.yaml")
    app = open_page("app_pages/runs.py")
    next(button for button in app.button if button.label == "Train again with these settings").click().run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Train"
    assert app.number_input(key="train_field_learning_rate").value == 1.5e-3
    assert app.selectbox(key="train_dataset_pick").value == f"File: {dataset.name}"
    assert app.session_state["train_values"]["run_name"] == ""
    assert app.session_state["train_parent"] == trained_demo.run_id, "the new run will be compared with this one"


def test_runs_page_shows_the_answers_at_the_step_picked_on_the_slider(trained_home):
    app = open_page("app_pages/runs.py")
    assert any(expander.label.startswith("Answers during training") for expander in app.expander)
    slider = app.select_slider(key=f"samples_step_{trained_home.run_id}")
    last_step = directory.read_status(directory.get_run(trained_home.run_id).path).max_steps
    assert slider.value == last_step and slider.options[0] == "0", "from the untrained model to the last evaluation"
    frame = next(frame.value for frame in app.dataframe if "answer" in frame.value.columns)
    assert list(frame["match"]) == ["yes"] * len(frame)
    slider.set_value(0).run()
    frame = next(frame.value for frame in app.dataframe if "answer" in frame.value.columns)
    assert list(frame["match"]).count("yes") <= 1
    assert "Answers before training" in texts(app)


def test_in_team_mode_a_visitor_who_has_not_signed_in_sees_only_the_way_in(team_home):
    # AppTest sends no cookie, so this is a browser that has not signed in (signed-in pages: test_e2e_team.py).
    control.submit(RunConfig(run_name="secret-project"), actor=Actor("alice"))
    for page in (None, "app_pages/runs.py", "app_pages/admin.py"):
        app = AppTest.from_file(APP, default_timeout=120).run()
        if page:
            app.switch_page(page).run()
        assert not app.exception, app.exception
        assert [header.value for header in app.subheader] == ["Sign in to continue"]
        assert "secret-project" not in texts(app) and not app.dataframe and not app.selectbox


def test_runs_page_lists_every_job_with_its_place_in_the_queue(demo_home):
    first = control.submit(RunConfig(), actor=Actor("alice"))
    second = control.submit(RunConfig(), actor=Actor("bob"))
    app = open_page("app_pages/runs.py")
    assert any(expander.label == "All jobs on this server (2 running or waiting)" for expander in app.expander)
    table = next(frame.value for frame in app.dataframe if "position" in frame.value.columns)
    assert list(table["run"]) == [second.run_id, first.run_id]
    assert list(table["position"]) == ["2", "1"] and list(table["owner"]) == ["bob", "alice"]


def test_runs_page_deletes_a_run_only_after_the_confirmation(demo_home, trained_demo):
    run_id = copy_trained_run(trained_demo, demo_home).name
    app = open_page("app_pages/runs.py")
    assert any(expander.label.startswith("Disk: ") for expander in app.expander)
    delete = next(button for button in app.button if button.label == "Delete this run")
    assert delete.disabled, "nothing is deleted without ticking the confirmation"
    app.checkbox(key=f"delete_{run_id}").check().run()
    next(button for button in app.button if button.label == "Delete this run").click().run()
    assert not app.exception, app.exception
    assert not (demo_home / "runs" / run_id).exists()
    assert "No runs yet" in texts(app)


def test_a_finished_run_whose_files_are_all_garbage_still_draws(trained_home, tmp_path, monkeypatch):
    # Regression: a half character appended to metrics.jsonl broke that run's page for good; a list in status.json
    # showed a traceback.
    home = tmp_path / "home"
    copied = copy_trained_run(trained_home, home, with_checkpoints=True)
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    for name in (directory.STATUS_FILE, directory.SCORES_FILE, directory.SAMPLES_FILE, directory.RECORD_FILE):
        (copied / name).write_bytes(b"[1, 2]\n\xff")
    with open(copied / directory.METRICS_FILE, "ab") as handle:
        handle.write(b'{"step": 99, "loss": 1.\xc3')
    app = open_page("app_pages/runs.py")
    assert "status.json) is unreadable" in texts(app)
    assert app.get("plotly_chart"), "the metrics before the broken line still make a chart"


def test_a_running_job_whose_process_has_gone_and_a_stopped_runner_are_said(demo_home, monkeypatch):
    from conftest import claim_next, dead_pid

    monkeypatch.setenv("WORKBENCH_START_RUNNER", "0")
    job = control.submit(RunConfig())
    claim_next()
    queue.mark_running(job.run_id, dead_pid(), "0")
    directory.update_status(directory.run_dir(job.run_id), state="running", step=3, max_steps=10)
    app = open_page("app_pages/runs.py")
    shown = texts(app)
    assert "The job runner is not running" in shown and "The training process has ended" in shown


def test_a_job_without_a_finished_step_for_long_is_called_stalled(demo_home, monkeypatch):
    import subprocess
    import sys
    import time

    from conftest import claim_next

    from workbench.jobs import health, processes

    monkeypatch.setenv("WORKBENCH_STALL_WARN_S", "60")
    stuck = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        job = control.submit(RunConfig())
        claim_next()
        queue.mark_running(job.run_id, stuck.pid, processes.process_start_time(stuck.pid))
        directory.update_status(directory.run_dir(job.run_id), state="running", step=7)
        assert health.job_warning(job.run_id) is None, "just now a step finished"
        warning = health.job_warning(job.run_id, now=time.time() + 600)
        assert warning.startswith("No training step has finished for 10 min (the last was step 7)")
    finally:
        stuck.kill()
        stuck.wait()


def test_a_running_job_shows_its_memory_in_use_and_the_last_lines_of_its_log(demo_home, monkeypatch):
    from conftest import claim_next, dead_pid

    monkeypatch.setenv("WORKBENCH_START_RUNNER", "0")
    job = control.submit(RunConfig())
    claim_next()
    queue.mark_running(job.run_id, dead_pid(), "0")
    run_dir = directory.run_dir(job.run_id)
    directory.update_status(run_dir, state="running", step=3, max_steps=10, memory_gb=1.25, memory_place="RAM")
    (run_dir / directory.LOG_FILE).write_text("".join(f"line {n}\n" for n in range(30)), encoding="utf-8")
    app = open_page("app_pages/runs.py")
    [progress] = app.get("progress")
    assert "RAM in use 1.2 GB" in progress.proto.text or "RAM in use 1.3 GB" in progress.proto.text
    [log] = [block.value for block in app.code if "line 29" in block.value]
    assert "line 22" in log and "line 21" not in log, "the last eight lines"
