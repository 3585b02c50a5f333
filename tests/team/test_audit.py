"""Tests for workbench.team.audit: the log takes new lines only, and filters by user, action and time."""

import sqlite3
import time

import pytest

from workbench.team import audit


def test_the_audit_log_refuses_updates_and_deletes(team_home):
    audit.record("alice", "upload", "chats v1")
    database = sqlite3.connect(team_home / "team.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        database.execute("UPDATE audit SET user = 'mallory'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        database.execute("DELETE FROM audit")
    assert [event.user for event in audit.events(action="upload")] == ["alice"]


def test_events_filter_by_user_action_and_time(team_home):
    audit.record("alice", "queue", "run-1")
    audit.record("bob", "queue", "run-2")
    audit.record("alice", "cancel", "run-1")
    assert [e.target for e in audit.events(user="alice")] == ["run-1", "run-1"]
    assert [e.user for e in audit.events(action="queue")] == ["bob", "alice"]
    assert audit.events(since=time.time() + 60) == []
    assert len(audit.events(until=time.time() + 60, limit=2)) == 2


def test_an_unknown_action_is_a_programming_error_not_a_silent_line(team_home):
    with pytest.raises(ValueError):
        audit.record("alice", "teleport")
