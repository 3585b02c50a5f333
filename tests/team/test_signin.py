"""Tests for workbench.team.signin: the same answer for a wrong password and an unknown name, attempts limited per
name and per address, and every attempt in the audit log without the password."""

import sqlite3
import time

import pytest
from conftest import TEAM_PASSWORDS

from workbench.errors import UserError
from workbench.team import audit, sessions, signin
from workbench.team.identity import Actor


def test_the_right_password_signs_in_and_is_audited(team_home):
    cookie = signin.sign_in("alice", TEAM_PASSWORDS["alice"], "10.0.0.5")
    assert sessions.user_for(cookie) == "alice"
    [event] = audit.events(action="sign-in")
    assert (event.user, event.address, event.detail) == ("alice", "10.0.0.5", "password")


def test_a_wrong_password_and_an_unknown_name_get_the_same_sentence(team_home):
    with pytest.raises(UserError) as wrong:
        signin.sign_in("alice", "not her password", "10.0.0.5")
    with pytest.raises(UserError) as unknown:
        signin.sign_in("mallory", "whatever-password", "10.0.0.5")
    with pytest.raises(UserError) as markup:
        signin.sign_in("<b>x</b>", "whatever-password", "10.0.0.5")
    assert str(wrong.value) == str(unknown.value) == str(markup.value) == signin.WRONG
    assert [e.user for e in audit.events(action="sign-in failed")] == ["(not a user name)", "mallory", "alice"]


def test_after_five_failures_the_name_waits_even_with_the_right_password(team_home, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SIGNIN_PAUSE_S", "600")
    for attempt in range(5):
        with pytest.raises(UserError, match="do not match"):
            signin.sign_in("alice", f"guess number {attempt}", f"10.0.0.{attempt}")
    with pytest.raises(UserError, match="Too many failed sign-ins; wait 10 min"):
        signin.sign_in("alice", TEAM_PASSWORDS["alice"], "10.0.1.1")
    assert signin.sign_in("bob", TEAM_PASSWORDS["bob"], "10.0.1.1"), "another name from another address is not held"
    time.sleep(0.2)
    monkeypatch.setenv("WORKBENCH_SIGNIN_PAUSE_S", "0.1")  # the failures are now older than the pause
    assert sessions.user_for(signin.sign_in("alice", TEAM_PASSWORDS["alice"], "10.0.1.1")) == "alice"


def test_one_address_trying_many_names_is_paused_too(team_home):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        with pytest.raises(UserError, match="do not match"):
            signin.sign_in(name, "spray-password-1", "203.0.113.9")
    with pytest.raises(UserError, match="Too many failed sign-ins"):
        signin.sign_in("bob", TEAM_PASSWORDS["bob"], "203.0.113.9")
    assert signin.sign_in("bob", TEAM_PASSWORDS["bob"], "198.51.100.7")


def test_no_password_reaches_the_database_or_the_audit_log(team_home):
    with pytest.raises(UserError):
        signin.sign_in("alice", "hunter2-but-longer", "10.0.0.5")
    signin.sign_in("alice", TEAM_PASSWORDS["alice"], "10.0.0.5")
    signin.change_own_password(Actor("alice"), TEAM_PASSWORDS["alice"], "a-completely-new-secret")
    dump = "\n".join(sqlite3.connect(team_home / "team.sqlite").iterdump())
    for secret in ("hunter2-but-longer", TEAM_PASSWORDS["alice"], "a-completely-new-secret"):
        assert secret not in dump


def test_changing_ones_password_needs_the_current_one(team_home):
    with pytest.raises(UserError, match="current password is not right"):
        signin.change_own_password(Actor("alice"), "wrong-current-pw", "a-completely-new-secret")
    signin.change_own_password(Actor("alice"), TEAM_PASSWORDS["alice"], "a-completely-new-secret")
    assert signin.sign_in("alice", "a-completely-new-secret")
