"""What a watching page shows: one state the job table and the panel agree on, and when to redraw."""

from workbench.config import RunConfig
from workbench.jobs import board, control, fairness, queue
from workbench.runs import directory


def test_while_a_job_starts_the_panel_says_what_the_table_says(home):
    job = control.submit(RunConfig())
    queue.claim(job.id)
    queue.mark_running(job.run_id, pid=1, proc_start="x")
    row, status = board.run_view(job.run_id)
    assert status.state == "queued"  # the training process has not written its status yet
    assert board.shown_state(row, status) == "running" == fairness.queue_rows([row])[0]["state"]
    assert board.shown_message(row, status) == "Starting the training process."
    assert not board.settled(row)


def test_a_run_that_wrote_its_end_is_settled_only_once_the_runner_recorded_it(home):
    job = control.submit(RunConfig())
    queue.claim(job.id)
    queue.mark_running(job.run_id, pid=1, proc_start="x")
    directory.update_status(directory.run_dir(job.run_id), state="cancelled", message="Cancelled at step 3.")
    row, status = board.run_view(job.run_id)
    assert board.shown_state(row, status) == "running" and not board.settled(row)
    assert "recording how" in board.shown_message(row, status)
    queue.mark_finished(job.run_id, "cancelled")
    row, status = board.run_view(job.run_id)
    assert board.shown_state(row, status) == "cancelled" and board.settled(row)
    assert board.shown_message(row, status) == "Cancelled at step 3."


def test_the_fingerprint_changes_when_a_job_starts_or_ends_and_not_otherwise(home):
    first = control.submit(RunConfig())
    before = board.fingerprint()
    assert board.fingerprint() == before and board.anything_active(before)
    directory.update_status(directory.run_dir(first.run_id), step=5)  # progress alone redraws only the panel
    assert board.fingerprint() == before
    queue.claim(first.id)
    started = board.fingerprint()
    assert started != before
    queue.mark_finished(first.run_id, "succeeded")
    assert board.fingerprint() != started and not board.anything_active(board.fingerprint())


def test_a_run_whose_queuing_failed_shows_its_own_state(home):
    job = control.submit(RunConfig())
    status = directory.read_status(directory.run_dir(job.run_id))
    assert board.shown_state(None, status) == "queued" and board.settled(None)
