"""Tests for `workbench users|tokens|audit` and `--user`, run as real subprocesses: the command line is held to the
same rules as the browser in team mode."""

import os
import subprocess
import sys
from pathlib import Path

from workbench.config import RunConfig
from workbench.jobs import control, queue
from workbench.team import audit, users
from workbench.team.identity import Actor


ROOT = Path(__file__).resolve().parents[2]


def workbench(home: Path, *args: str, password: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_MODE": "team", "WORKBENCH_USER": "root"}
    command = [sys.executable, "-m", "workbench.cli", *args]
    return subprocess.run(
        command, env=env, input=password + "\n", capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )


def test_the_first_admin_is_made_on_the_command_line_and_then_only_admins_manage_users(home, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MODE", "team")
    made = workbench(home, "users", "add", "ada", "--role", "admin", password="ada-password-1")
    assert made.returncode == 0 and "Added ada (admin)." in made.stdout, made.stderr
    refused = workbench(home, "users", "add", "eve", password="eve-password-1")
    assert refused.returncode == 2 and "no user called root" in refused.stderr, "once an admin exists, say who you are"
    assert workbench(home, "--user", "ada", "users", "add", "alice", password="alice-password-1").returncode == 0
    member = workbench(home, "--user", "alice", "users", "add", "eve", password="eve-password-1")
    assert (
        member.returncode == 2
        and member.stderr.strip() == "error: Only an admin can add users; ask one of your workbench's admins."
    )
    listed = workbench(home, "--user", "alice", "users", "list").stdout
    assert "ada" in listed and "alice" in listed and "eve" not in listed
    assert "ada-password-1" not in listed and users.find("alice").has_password
    last = workbench(home, "--user", "ada", "users", "role", "ada", "member")
    assert last.returncode == 2 and "ada is the last admin" in last.stderr


def test_scripts_obey_the_same_ownership_rules(team_home):
    job = control.submit(RunConfig(run_name="alices"), Actor("alice"))
    hidden = workbench(team_home, "--user", "bob", "jobs", "cancel", job.run_id)
    assert hidden.returncode == 2 and "that you can see" in hidden.stderr
    assert job.run_id not in workbench(team_home, "--user", "bob", "jobs", "list").stdout
    for attempt in (("export", job.run_id), ("jobs", "resume", job.run_id), ("runs", "share", job.run_id)):
        refused = workbench(team_home, "--user", "bob", *attempt)
        assert refused.returncode == 2 and "that you can see" in refused.stderr, attempt
    assert workbench(team_home, "--user", "alice", "runs", "share", job.run_id).returncode == 0
    assert job.run_id in workbench(team_home, "--user", "bob", "jobs", "list").stdout
    refused = workbench(team_home, "--user", "bob", "jobs", "cancel", job.run_id)
    assert refused.returncode == 2 and "only they or an admin can cancel it" in refused.stderr
    assert workbench(team_home, "--user", "ada", "jobs", "cancel", job.run_id).returncode == 0
    assert queue.get_job(job.run_id).state == "cancelled"
    assert [(e.user, e.action) for e in audit.events(action="cancel")] == [("ada", "cancel")]


def test_a_token_is_printed_once_and_the_audit_log_is_for_admins(team_home):
    made = workbench(team_home, "--user", "alice", "tokens", "create", "--label", "notebook")
    token = made.stdout.strip()
    assert made.returncode == 0 and token.startswith("wbu-") and "shown only this once" in made.stderr
    listed = workbench(team_home, "--user", "alice", "tokens", "list").stdout
    assert "notebook" in listed and token not in listed
    assert workbench(team_home, "--user", "alice", "audit").returncode == 2
    log = workbench(team_home, "--user", "ada", "audit", "--action", "token created")
    assert log.returncode == 0 and "alice" in log.stdout and "notebook" in log.stdout and token not in log.stdout
