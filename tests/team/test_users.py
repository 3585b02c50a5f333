"""Tests for workbench.team.users: only admins manage users, the last admin stays, removal ends sessions and tokens."""

import pytest

from workbench.errors import UserError
from workbench.team import audit, sessions, tokens, users
from workbench.team.identity import Actor


ADA, ALICE = Actor("ada", "admin"), Actor("alice")


def test_only_admins_add_users_and_names_are_unique(team_home):
    with pytest.raises(UserError, match="Only an admin can add users"):
        users.add(ALICE, "carol", "carol-password-1")
    carol = users.add(ADA, "carol", "carol-password-1")
    assert (carol.name, carol.role, carol.has_password) == ("carol", "member", True)
    with pytest.raises(UserError, match="already a user called carol"):
        users.add(ADA, "carol", "another-password-1")
    with pytest.raises(UserError, match="too short"):
        users.add(ADA, "dave", "short")
    assert users.find("dave") is None


def test_the_last_admin_can_be_neither_removed_nor_made_a_member(team_home):
    with pytest.raises(UserError, match="ada is the last admin"):
        users.remove(ADA, "ada")
    with pytest.raises(UserError, match="ada is the last admin"):
        users.set_role(ADA, "ada", "member")
    users.set_role(ADA, "alice", "admin")
    users.set_role(Actor("alice", "admin"), "ada", "member")
    assert users.role_of("ada") == "member" and users.role_of("alice") == "admin"


def test_removing_a_user_ends_their_sessions_and_tokens_and_is_audited(team_home):
    cookie = sessions.start("bob")
    token = tokens.create(Actor("bob"), "notebook")
    assert sessions.user_for(cookie) == "bob" and tokens.actor_for(token).name == "bob"
    users.remove(ADA, "bob")
    assert sessions.user_for(cookie) is None and tokens.actor_for(token) is None
    assert [(e.user, e.target) for e in audit.events(action="user removed")] == [("ada", "bob")]


def test_a_new_password_ends_the_other_sessions_and_members_change_only_their_own(team_home):
    cookie = sessions.start("alice")
    with pytest.raises(UserError, match="Only an admin can change other people's passwords"):
        users.set_password(Actor("bob"), "alice", "bobs-choice-123")
    users.set_password(ALICE, "alice", "a-brand-new-one")
    assert sessions.user_for(cookie) is None


def test_people_seen_through_a_provider_become_members_and_admins_come_from_the_setting(team_home, monkeypatch):
    assert users.seen("maria@example.org", "oidc").role == "member"
    assert users.seen("maria@example.org", "oidc").source == "oidc", "seen twice, added once"
    monkeypatch.setenv("WORKBENCH_ADMINS", "maria@example.org")
    assert users.role_of("maria@example.org") == "admin"
    assert users.role_of("nobody") is None
