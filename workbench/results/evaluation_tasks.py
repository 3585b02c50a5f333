"""Evaluations and judgements started from the Runs page: each runs as a background task (``background.py``) of
``workbench eval --record`` or ``workbench judge --record``, so that a click elsewhere on the page, leaving it or a
web-server restart does not stop it, and the page follows its count of answers from the run folder.

What the task would refuse at once (a run the user may not see, no trained model, nothing to compare answers against,
no saved evaluation to judge, a bad rubric, a dataset the user may not use, one already running) is refused here,
before anything starts.
"""

import sys
from pathlib import Path

from workbench.data import library
from workbench.errors import UserError
from workbench.jobs import control
from workbench.results import background, evaluate, judge
from workbench.runs import directory
from workbench.runs.directory import EVALUATING_TASK, JUDGING_TASK, Run
from workbench.serving import catalogue
from workbench.team import access
from workbench.team.identity import Actor


def evaluation_task(run: Run) -> background.Task:
    return background.Task.named(run.path, EVALUATING_TASK)


def judgement_task(run: Run) -> background.Task:
    return background.Task.named(run.path, JUDGING_TASK)


def start_evaluation(run: Run, actor: Actor | None, data: Path | None = None, checkpoint: int | None = None) -> None:
    """Start evaluating the run's current model (or its ``checkpoint``) on its held-out split or ``data``."""
    actor = _startable(run, actor, evaluation_task(run))
    if not run.has_output:
        raise UserError(f"The run {run.run_id} has no trained model yet; evaluate it when it has succeeded.")
    if data is not None:
        library.check_visible(actor, data)
    if checkpoint is not None:
        catalogue.find(f"{run.run_id}{catalogue.CHECKPOINT_MARK}{checkpoint}", actor)
    evaluate.conversations_to_evaluate(run, data)
    command = _command(actor, "eval", run.run_id)
    command += [f"--data={data}"] if data is not None else []
    command += [f"--checkpoint={checkpoint}"] if checkpoint is not None else []
    background.start(evaluation_task(run), command, {"checkpoint": checkpoint})


def start_judgement(run: Run, actor: Actor | None, judge_model: str, rubric: str) -> None:
    """Start having ``judge_model`` score the run's saved evaluation against ``rubric``."""
    actor = _startable(run, actor, judgement_task(run))
    rubric = judge.check_rubric(rubric)
    judge.check_evaluated(run)
    catalogue.find(judge_model.strip(), actor)
    command = _command(actor, "judge", run.run_id) + [f"--judge={judge_model.strip()}", f"--rubric={rubric}"]
    background.start(judgement_task(run), command)


def record_evaluation(run_id: str, actor: Actor, data: Path | None, checkpoint: int | None) -> int:
    """The body of ``workbench eval RUN_ID --record``: evaluate, recording the count of answers; the exit code."""

    def work(recorder: background.Recorder) -> tuple[str, dict]:
        def progress(done: int, total: int) -> None:
            recorder.count(done, total, f"Answered {done} of {total}")

        return evaluate.summary(evaluate.evaluate(run_id, actor, data, progress, checkpoint)), {}

    control.check_see_run(actor, run_id)  # before anything is written into the run folder
    return background.run_recorded(evaluation_task(directory.get_run(run_id)), work, {"checkpoint": checkpoint})


def record_judgement(run_id: str, actor: Actor, judge_model: str, rubric: str) -> int:
    """The body of ``workbench judge RUN_ID --record``: judge, recording the count of answers; the exit code."""

    def work(recorder: background.Recorder) -> tuple[str, dict]:
        def progress(done: int, total: int) -> None:
            recorder.count(done, total, f"Judged {done} of {total} answers")

        return judge.summary(judge.judge(run_id, judge_model, rubric, actor, progress)), {}

    control.check_see_run(actor, run_id)
    return background.run_recorded(judgement_task(directory.get_run(run_id)), work)


def _startable(run: Run, actor: Actor | None, task: background.Task) -> Actor:
    actor = access.acting(actor)
    control.check_see_run(actor, run.run_id)
    state = background.read_state(task)
    if state.running:
        raise UserError(background.already_running(task, state))
    return actor


def _command(actor: Actor, command: str, run_id: str) -> list[str]:
    # NAME=VALUE, so that a value starting with '-' is never read as an option
    return [sys.executable, "-m", "workbench.cli", f"--user={actor.name}", command, run_id, "--record"]
