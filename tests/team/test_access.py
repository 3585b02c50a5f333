"""Tests for workbench.team.access: who may see and manage what, sharing, the command line's user, model sources."""

import pytest

from workbench.errors import UserError
from workbench.team import access, audit
from workbench.team.identity import Actor


ADA, ALICE, BOB = Actor("ada", "admin"), Actor("alice"), Actor("bob")


def test_members_see_their_own_and_shared_things_and_manage_only_their_own(team_home):
    assert access.may_see(ALICE, "alice", "run", "r1") and not access.may_see(BOB, "alice", "run", "r1")
    assert access.may_see(ADA, "alice", "run", "r1") and access.may_manage(ADA, "alice")
    with pytest.raises(UserError, match="only they or an admin can share it"):
        access.set_shared(BOB, "run", "r1", "alice", True)
    access.set_shared(ALICE, "run", "r1", "alice", True)
    assert access.may_see(BOB, "alice", "run", "r1") and not access.may_manage(BOB, "alice")
    assert not access.may_see(BOB, "alice", "dataset", "r1"), "a share is for one kind of thing"
    assert access.may_see(BOB, "", "run", "old") and not access.may_manage(BOB, ""), "unowned: seen, not managed"
    access.set_shared(ADA, "run", "r1", "alice", False)
    assert not access.may_see(BOB, "alice", "run", "r1")
    assert [e.action for e in audit.events()][:2] == ["unshare", "share"]


def test_the_command_line_acts_for_a_known_user_in_team_mode(team_home, monkeypatch):
    assert access.cli_actor("alice") == Actor("alice", "member", "cli")
    assert access.cli_actor("ada").admin
    with pytest.raises(UserError, match="no user called mallory"):
        access.cli_actor("mallory")
    monkeypatch.setenv("WORKBENCH_USER", "alice")
    assert access.cli_actor() == Actor("alice", "member", "cli"), "by default, the operating-system user"


def test_before_any_admin_exists_the_command_line_sets_the_server_up(home, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MODE", "team")
    assert access.cli_actor("root").admin
    monkeypatch.setenv("WORKBENCH_MODE", "local")
    assert access.cli_actor("anyone").admin, "local mode has one user, who may do everything"


def test_in_team_mode_models_come_only_from_the_configured_places(team_home, tmp_path, monkeypatch):
    allowed, outside = tmp_path / "models", tmp_path / "elsewhere"
    (allowed / "qwen").mkdir(parents=True)
    (outside / "secret").mkdir(parents=True)
    (allowed / "sneaky").symlink_to(outside / "secret")
    monkeypatch.setenv("WORKBENCH_MODEL_DIRS", str(allowed))
    monkeypatch.setenv("WORKBENCH_HUB_MODELS", "Qwen/*, meta-llama/Llama-3.2-1B-Instruct")
    access.check_model_source(str(allowed / "qwen"))
    access.check_model_source("Qwen/Qwen2.5-0.5B-Instruct")
    access.check_model_source("meta-llama/Llama-3.2-1B-Instruct")
    refused = [str(outside / "secret"), str(allowed / "sneaky"), str(outside / "absent"), "/etc", "evil/model"]
    sentences = set()
    for model in refused:
        with pytest.raises(UserError, match="models come only from") as caught:
            access.check_model_source(model)
        sentences.add(str(caught.value))
    assert len(sentences) == 1, "the refusal never tells which paths exist"
    monkeypatch.setenv("WORKBENCH_MODE", "local")
    access.check_model_source(str(outside / "secret"))
