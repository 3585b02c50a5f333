"""Tests for workbench.results.evaluation_tasks: an evaluation and a judgement started as the Runs page starts them
run in a process of their own (``workbench eval/judge --record``), record their count of answers in the run folder
and save their result; what they would refuse is refused before anything starts."""

import pytest
from conftest import copy_trained_run, wait_for

from workbench.config import RunConfig
from workbench.data import library, validation
from workbench.errors import UserError
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.results import background, evaluate, evaluation_tasks, judge
from workbench.runs import directory
from workbench.team import access
from workbench.team.identity import Actor


@pytest.fixture
def trained_run(demo_home, trained_demo):
    copy_trained_run(trained_demo, demo_home)
    return directory.get_run(trained_demo.run_id)


def three_capitals():
    content = "".join(DEMO_HELDOUT_FILE.read_text().splitlines(keepends=True)[:3]).encode()
    return library.create_dataset("capitals.jsonl", content, validation.validate(content, "capitals.jsonl")).path


def ended(task: background.Task) -> background.TaskState:
    wait_for(lambda: not background.read_state(task).running, timeout=300, what=f"the {task.what} process")
    return background.read_state(task)


def test_an_evaluation_runs_in_its_own_process_and_a_second_start_waits_for_it(trained_run):
    task = evaluation_tasks.evaluation_task(trained_run)
    evaluation_tasks.start_evaluation(trained_run, None, three_capitals())
    assert background.read_state(task).running
    with pytest.raises(UserError, match="evaluation is already running"):
        evaluation_tasks.start_evaluation(trained_run, None)
    state = ended(task)
    assert state.state == "succeeded", task.log_path.read_text()
    assert state.message.startswith("On the dataset capitals") and (state.done, state.total) == (6, 6), (
        "both models' 3 answers counted"
    )
    assert evaluate.read_evaluation(trained_run).n == 3, "the result is saved with the run"


def test_a_judgement_runs_in_its_own_process_once_there_is_an_evaluation_to_judge(trained_run):
    with pytest.raises(UserError, match="Evaluate the run first"):
        evaluation_tasks.start_judgement(trained_run, None, "demo", judge.DEFAULT_RUBRIC)
    evaluation_tasks.start_evaluation(trained_run, None, three_capitals())
    assert ended(evaluation_tasks.evaluation_task(trained_run)).state == "succeeded"
    with pytest.raises(UserError, match="The rubric is empty"):
        evaluation_tasks.start_judgement(trained_run, None, "demo", "   ")
    with pytest.raises(UserError, match="no-such-model"):
        evaluation_tasks.start_judgement(trained_run, None, "no-such-model", judge.DEFAULT_RUBRIC)
    assert background.read_state(evaluation_tasks.judgement_task(trained_run)).state == "idle", "nothing started"
    evaluation_tasks.start_judgement(trained_run, None, "demo", judge.DEFAULT_RUBRIC)
    state = ended(evaluation_tasks.judgement_task(trained_run))
    assert state.state == "succeeded", evaluation_tasks.judgement_task(trained_run).log_path.read_text()
    saved = judge.read_judgement(trained_run)
    assert saved.n == 3 and saved.judge == "demo" and state.message == judge.summary(saved)


def test_a_missing_checkpoint_is_refused_before_anything_starts(trained_run):
    with pytest.raises(UserError, match="no saved checkpoint at step 999"):
        evaluation_tasks.start_evaluation(trained_run, None, checkpoint=999)
    assert background.read_state(evaluation_tasks.evaluation_task(trained_run)).state == "idle"


def test_what_the_task_process_refuses_is_left_as_its_sentence_for_the_page(home):
    untrained = directory.create_run(RunConfig())
    assert evaluation_tasks.record_evaluation(untrained.run_id, access.local_actor(), None, None) == 2
    state = background.read_state(evaluation_tasks.evaluation_task(untrained))
    assert state.state == "failed" and "has no trained model yet" in state.message


def test_a_recorded_evaluation_of_a_run_the_user_may_not_see_writes_nothing_into_it(trained_run):
    with pytest.raises(UserError, match="that you can see"):
        evaluation_tasks.record_evaluation(trained_run.run_id, Actor("mallory"), None, None)
    with pytest.raises(UserError, match="that you can see"):
        evaluation_tasks.record_judgement(trained_run.run_id, Actor("mallory"), "demo", judge.DEFAULT_RUBRIC)
    assert not list(trained_run.path.glob("evaluating.*")) and not list(trained_run.path.glob("judging.*"))
