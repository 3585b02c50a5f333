"""Tests for workbench.limits: work on untrusted input runs in a child process that cannot take more memory or
time than allowed, and whatever happens there comes back as one sentence."""

import os
import time

import pytest

from workbench import limits
from workbench.errors import UserError


def grab(gigabytes: float) -> int:
    return len(bytearray(int(gigabytes * 2**30)))


def nap(seconds: float) -> str:
    time.sleep(seconds)
    return "awake"


def refuse() -> None:
    raise UserError("The file is not JSON; fix line 3.")


def crash() -> None:
    raise KeyError("boom")


def where() -> tuple[str, str, int]:
    return os.environ.get("WORKBENCH_HOME", ""), os.getcwd(), os.getpid()


def test_a_result_comes_back_and_the_child_sees_this_process_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    home, folder, pid = limits.run_bounded(where)
    assert (home, folder) == (str(tmp_path), os.getcwd()) and pid != os.getpid()


def test_more_memory_than_the_budget_is_a_sentence_not_a_dead_server(monkeypatch):
    monkeypatch.setenv("WORKBENCH_CHECK_MEMORY_GB", "0.5")
    with pytest.raises(UserError, match="needed more than 0.5 GB of memory"):
        limits.run_bounded(grab, 1.0)
    assert limits.run_bounded(grab, 0.1) > 0


def test_work_that_runs_too_long_is_stopped(monkeypatch):
    monkeypatch.setenv("WORKBENCH_CHECK_TIMEOUT_S", "1")
    started = time.monotonic()
    with pytest.raises(UserError, match="took longer than 1 s"):
        limits.run_bounded(nap, 30)
    assert time.monotonic() - started < 20, "the child is killed, not waited for"


def test_a_user_error_passes_through_and_a_crash_becomes_a_sentence():
    with pytest.raises(UserError, match="fix line 3"):
        limits.run_bounded(refuse)
    with pytest.raises(UserError, match=r"failed \(KeyError: 'boom'\)"):
        limits.run_bounded(crash)
