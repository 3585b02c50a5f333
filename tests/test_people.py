"""Tests for workbench.people: the user named in the configured proxy header, else WORKBENCH_USER, else the OS user."""

import getpass

from workbench import people


def test_the_configured_proxy_header_names_the_user(monkeypatch):
    monkeypatch.setenv("WORKBENCH_USER_HEADER", "X-Forwarded-User")
    assert people.user_from_headers({"X-Forwarded-User": "maria@example.org"}) == "maria@example.org"
    assert people.user_from_headers({"x-forwarded-user": " tom "}) == "tom"


def test_without_a_configured_header_no_header_is_trusted(monkeypatch):
    # Regression: any browser could name itself an admin through X-Forwarded-User and delete others' checkpoints.
    monkeypatch.delenv("WORKBENCH_USER_HEADER", raising=False)
    monkeypatch.setenv("WORKBENCH_USER", "gpu-server")
    monkeypatch.setenv("WORKBENCH_ADMINS", "ops")
    for header in ("X-Forwarded-User", "X-Remote-User", "X-Auth-Request-User", "Remote-User"):
        assert people.user_from_headers({header: "ops"}) == "gpu-server"


def test_without_a_usable_header_the_server_user_is_used(monkeypatch):
    monkeypatch.delenv("WORKBENCH_USER_HEADER", raising=False)
    monkeypatch.setenv("WORKBENCH_USER", "team-gpu")
    assert people.user_from_headers({}) == "team-gpu"
    assert people.user_from_headers({"X-Forwarded-User": "<script>alert(1)</script>"}) == "team-gpu"
    assert people.user_from_headers({"X-Forwarded-User": "../../etc/passwd"}) == "team-gpu"
    monkeypatch.delenv("WORKBENCH_USER")
    assert people.server_user() == getpass.getuser()


def test_only_the_owner_and_admins_control_a_run_from_the_browser(monkeypatch):
    monkeypatch.setenv("WORKBENCH_USER", "gpu-server")
    monkeypatch.setenv("WORKBENCH_ADMINS", "lead@example.org, ops")
    assert people.may_control("alice", "alice")
    assert not people.may_control("alice", "bob")
    assert people.may_control("alice", "ops") and people.may_control("alice", "lead@example.org")
    assert not people.may_control("alice", "gpu-server"), "a browser visitor without a name is not an admin"
    assert people.may_control("alice", None), "the command line on the server always may"
    assert people.may_control("", "bob"), "a run from before owners were recorded belongs to everyone"


def test_with_a_configured_header_only_it_counts_and_a_missing_name_is_anonymous(monkeypatch):
    monkeypatch.setenv("WORKBENCH_USER_HEADER", "X-Auth-Request-User")
    monkeypatch.setenv("WORKBENCH_ADMINS", "ops")
    spoofed = {"X-Forwarded-User": "ops", "X-Auth-Request-User": "bob"}
    assert people.user_from_headers(spoofed) == "bob", "a header the proxy does not set is ignored"
    assert people.user_from_headers({"X-Forwarded-User": "ops"}) == people.ANONYMOUS
    assert not people.may_control("", people.ANONYMOUS)
