"""Tests for workbench.team.tokens: personal API tokens, stored as hashes, listed by owner, revocable."""

import sqlite3

import pytest

from workbench.errors import UserError
from workbench.team import tokens
from workbench.team.identity import Actor


def test_a_token_acts_for_its_user_until_it_is_revoked(team_home):
    token = tokens.create(Actor("alice"), "notebook")
    assert token.startswith("wbu-") and tokens.actor_for(token) == Actor("alice", "member", "api")
    assert token not in "\n".join(sqlite3.connect(team_home / "team.sqlite").iterdump())
    [listed] = tokens.list_tokens(Actor("alice"))
    assert listed.label == "notebook" and listed.last_used is not None
    assert tokens.list_tokens(Actor("bob")) == []
    with pytest.raises(UserError, match="no token"):
        tokens.revoke(Actor("bob"), listed.id)
    tokens.revoke(Actor("alice"), listed.id)
    assert tokens.actor_for(token) is None


def test_made_up_tokens_act_for_nobody(team_home):
    tokens.create(Actor("alice"), "")
    for made_up in ("wbu-nothing", "wb-server-key-shape", "", "wbu-" + "x" * 500):
        assert tokens.actor_for(made_up) is None
