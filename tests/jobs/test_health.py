"""Tests for workbench.jobs.health: a dead runner is started again from an open Runs page, or named when the app may
not start one."""

from conftest import wait_for
from leftovers import runner_pid

from workbench.jobs import health, runner_lock


def test_a_dead_runner_is_started_again_by_the_page_that_notices(demo_home, monkeypatch):
    # Regression: a killed runner was restarted only on a full page load; the live panel never noticed.
    monkeypatch.setenv("WORKBENCH_START_RUNNER", "1")
    assert not runner_lock.runner_running()
    assert health.runner_warning() is None
    assert wait_for(lambda: runner_pid(demo_home), timeout=60, what="the runner to start")


def test_when_the_app_may_not_start_a_runner_the_page_says_so(demo_home, monkeypatch):
    monkeypatch.setenv("WORKBENCH_START_RUNNER", "0")
    assert "`workbench runner`" in health.runner_warning()
    assert not runner_lock.runner_running()
