"""Tests for workbench.jobs.fairness: round-robin between people, admin priority, quotas, expected start times."""

import time

import pytest

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.jobs import control, fairness, queue
from workbench.team import audit
from workbench.team.identity import Actor


ADA, ALICE, BOB, CAROL = Actor("ada", "admin"), Actor("alice"), Actor("bob"), Actor("carol")


def queued_by(*actors: Actor, estimate_s: float | None = None) -> list[str]:
    return [control.submit(RunConfig(), actor, estimate_s=estimate_s).run_id for actor in actors]


def test_one_persons_many_runs_do_not_hold_back_a_colleagues_one(home):
    alice_runs = queued_by(ALICE, ALICE, ALICE, ALICE)
    [bob_run] = queued_by(BOB)
    [carol_run] = queued_by(CAROL)
    ordered = [job.run_id for job in fairness.fair_queue()[0]]
    assert ordered == [alice_runs[0], bob_run, carol_run, *alice_runs[1:]]
    assert fairness.queue_position(bob_run) == 2 and fairness.queue_position(alice_runs[3]) == 6


def test_whoever_was_served_last_waits_behind_the_others_within_a_round(home):
    alice_first, alice_second = queued_by(ALICE, ALICE)
    queue.claim(queue.get_job(alice_first).id)  # alice's first run starts
    [bob_run] = queued_by(BOB)
    assert [job.run_id for job in fairness.fair_queue()[0]] == [bob_run, alice_second]


def test_an_admin_moves_a_run_to_the_front_and_only_an_admin_may(home):
    first, _, third = queued_by(ALICE, BOB, CAROL)
    with pytest.raises(UserError, match="Only an admin"):
        control.move_to_front(third, BOB)
    control.move_to_front(third, ADA)
    assert fairness.next_job().run_id == third
    control.move_to_front(third, ADA, front=False)
    assert fairness.next_job().run_id == first
    assert [e.detail for e in audit.events(action="priority")] == ["back in the fair order", "to the front"]


def test_a_member_may_queue_only_so_many_runs_at_once(home, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MAX_QUEUED", "2")
    queued_by(ALICE, ALICE)
    with pytest.raises(UserError, match="You have 2 runs waiting, the most one person may queue here"):
        queued_by(ALICE)
    [refusal] = control.queue_refusals(ALICE)  # what the Train page says before Start
    assert refusal.startswith("You have 2 runs waiting") and control.queue_refusals(BOB) == []
    queued_by(BOB)
    queued_by(ADA, ADA, ADA)  # admins are not capped


def test_a_user_over_the_gpu_hour_quota_waits_while_others_start_and_cannot_queue_more(home, monkeypatch):
    monkeypatch.setenv("WORKBENCH_GPU_HOURS", "1")
    monkeypatch.setenv("WORKBENCH_QUOTA_DAYS", "7")
    [old] = queued_by(ALICE)
    queue.claim(queue.get_job(old).id)
    [alice_next] = queued_by(ALICE)  # queued while still under the quota
    [bob_next] = queued_by(BOB)
    started = time.time() - 5400
    with queue.connect() as db:  # alice's run started 90 minutes ago
        db.execute("UPDATE jobs SET started_at = ? WHERE run_id = ?", (started, old))
    queue.mark_finished(old, "succeeded")
    assert fairness.usage()[0]["alice"] == pytest.approx(1.5, abs=0.01)
    assert fairness.next_job().run_id == bob_next
    place = fairness.places()[alice_next]
    assert place.position is None and "alice has used 1.5 of 1 GPU-hours in the last 7 days" in place.note
    frees = fairness.quota_frees_at("alice")
    assert frees == pytest.approx(started + 1800 + 7 * 86400, abs=60), "when the first half hour has left the window"
    with pytest.raises(
        UserError, match=r"You cannot start more runs now: alice has used 1.5 of 1 GPU-hours .* leaves"
    ):
        queued_by(ALICE)
    queued_by(ADA)  # admins have no quota
    monkeypatch.setenv("WORKBENCH_GPU_HOURS", "2")
    assert fairness.places()[alice_next].position == 3, "back in the order, behind bob and ada, not yet served"


def test_expected_starts_add_up_the_estimates_of_the_runs_running_and_ahead(home):
    running, first, second = queued_by(ALICE, BOB, CAROL, estimate_s=600)
    queue.claim(queue.get_job(running).id)
    now = time.time()
    places = fairness.places(slots=1, now=now)
    assert places[first].starts_in_s == pytest.approx(600, abs=5)
    assert places[second].starts_in_s == pytest.approx(1200, abs=5)
    on_two = fairness.places(slots=2, now=now)
    assert on_two[first].starts_in_s == 0 and on_two[second].starts_in_s == pytest.approx(600, abs=5)
    [unknown] = queued_by(ADA)  # no estimate
    [after] = queued_by(BOB, estimate_s=60)
    assert fairness.places(slots=1)[after].starts_in_s is None, "a run ahead without an estimate: not known"
    assert fairness.places(slots=1)[unknown].starts_in_s is not None


def test_device_time_is_counted_per_attempt_and_per_gpu(home):
    [run] = queued_by(ALICE)
    queue.claim(queue.get_job(run).id)
    with queue.connect() as db:
        db.execute("UPDATE jobs SET started_at = ?, gpus = 2 WHERE run_id = ?", (time.time() - 1800, run))
    queue.mark_finished(run, "failed")
    queue.queue_again(run)
    queue.claim(queue.get_job(run).id)
    with queue.connect() as db:
        db.execute("UPDATE jobs SET started_at = ? WHERE run_id = ?", (time.time() - 900, run))
    hours = queue.device_hours(time.time() - 86400)
    assert hours["alice"] == pytest.approx(1.0 + 0.5, abs=0.01), "30 min on 2 GPUs, then 15 running on 2"
