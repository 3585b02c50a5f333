"""Tests for workbench.results.background: a task's process records how it went in the run folder, one at a time per
run, and a run with a task running is not changed under it."""

import concurrent.futures
import json
import os
import signal
import sys
import time

import pytest
from conftest import dead_pid, wait_for

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.jobs import processes
from workbench.results import background
from workbench.runs import directory
from workbench.runs.directory import EVALUATING_TASK, JUDGING_TASK, MERGE_TASK


@pytest.fixture
def task(home):
    return background.Task.named(directory.create_run(RunConfig()).path, EVALUATING_TASK)


def test_counted_work_is_recorded_then_its_outcome_with_what_it_works_on(task):
    seen = []

    def work(recorder):
        for done in range(1, 4):
            recorder.count(done, 3, f"Answered {done} of 3")
            seen.append(background.read_state(task))
        return "All answered.", {"score": 0.5}

    assert background.run_recorded(task, work, {"checkpoint": 8}) == 0
    assert seen[0].running and seen[0].recorded["pid"] == os.getpid() and seen[0].recorded["checkpoint"] == 8
    assert (seen[-1].done, seen[-1].total, seen[-1].message) == (3, 3, "Answered 3 of 3"), "the end is always written"
    final = background.read_state(task)
    assert (final.state, final.message, final.recorded["score"], final.recorded["checkpoint"]) == (
        "succeeded",
        "All answered.",
        0.5,
        8,
    )


def test_a_refusal_and_a_crash_each_leave_a_sentence_and_their_exit_code(task):
    def refused(recorder):
        raise UserError("The run has no trained model yet; evaluate it when it has succeeded.")

    def crashed(recorder):
        raise KeyError("surprise")

    assert background.run_recorded(task, refused) == 2
    assert background.read_state(task).message.startswith("The run has no trained model yet")
    assert background.run_recorded(task, crashed) == 1
    state = background.read_state(task)
    assert state.state == "failed" and "KeyError" in state.message and "evaluating.log" in state.message


def test_a_task_whose_process_died_or_whose_record_is_damaged_reads_as_failed(task):
    background.write_state(task, "running", "Answered 3 of 9", pid=dead_pid(), done=3, total=9)
    assert "stopped before it finished" in background.read_state(task).message
    task.state_path.write_text("{not json")
    assert "unreadable" in background.read_state(task).message
    task.state_path.write_text(json.dumps({"state": "running", "done": -4, "total": "many"}))
    assert (background.read_state(task).done, background.read_state(task).total) == (0, 0), "bad counts read as 0"


@pytest.mark.parametrize(
    ("name", "doing"), [(MERGE_TASK, "merged"), (EVALUATING_TASK, "evaluated"), (JUDGING_TASK, "judged")]
)
def test_a_run_with_any_task_running_is_refused_a_change_until_it_ends(home, name, doing):
    run = directory.create_run(RunConfig())
    background.check_idle(run.path, run.run_id)
    running = background.Task.named(run.path, name)
    background.write_state(running, "running", "…", pid=os.getpid(), updated_at=time.time())
    with pytest.raises(UserError, match=f"is being {doing}; wait"):
        background.check_idle(run.path, run.run_id)
    background.write_state(running, "succeeded", "done")
    background.check_idle(run.path, run.run_id)


def test_a_process_that_dies_before_reporting_itself_reads_as_not_started_at_once(task):
    background.start(task, [sys.executable, "-c", "import sys; print('no such option: --x'); sys.exit(2)"])
    wait_for(lambda: not background.read_state(task).running, timeout=20, what="the start to read as failed")
    state = background.read_state(task)
    assert "did not start; the run folder's evaluating.log says why" in state.message, "not after START_TIMEOUT_S"
    assert "no such option" in task.log_path.read_text()


def test_a_second_start_is_refused_while_the_first_runs_even_at_the_same_moment(task):
    sleeper = [sys.executable, "-c", "import time; time.sleep(30)"]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: _started(task, sleeper), range(4)))
    assert outcomes.count("started") == 1 and outcomes.count("refused") == 3, outcomes
    launcher = background.read_state(task).recorded["launcher"]
    os.kill(launcher, signal.SIGKILL)
    wait_for(lambda: not background.read_state(task).running, timeout=20, what="the killed process to read as gone")


def test_a_task_process_holding_the_lock_refuses_a_start_whatever_its_record_says(task):
    holder = processes.try_lock(task.lock_path)  # as a `workbench eval --record` started by hand holds it
    try:
        with pytest.raises(UserError, match="already running"):
            background.start(task, [sys.executable, "-c", "pass"])
    finally:
        os.close(holder)
    assert background.read_state(task).state == "idle", "nothing was started or recorded"


def _started(task: background.Task, command: list[str]) -> str:
    try:
        background.start(task, command)
    except UserError as error:
        assert "already running" in str(error)
        return "refused"
    return "started"
