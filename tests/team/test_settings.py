"""Tests for workbench.team.settings: local mode by default, team mode and its sign-in, numbers that cannot be read."""

import pytest

from workbench.errors import UserError
from workbench.team import settings


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    for name in ("WORKBENCH_MODE", "WORKBENCH_AUTH", "WORKBENCH_USER_HEADER", "WORKBENCH_MAX_QUEUED"):
        monkeypatch.delenv(name, raising=False)


def test_local_mode_is_the_default_with_no_queue_cap():
    current = settings.current()
    assert (current.mode, current.team, current.max_queued) == ("local", False, 0)


def test_team_mode_signs_in_with_built_in_accounts_by_default_and_caps_the_queue(monkeypatch):
    monkeypatch.setenv("WORKBENCH_MODE", "team")
    current = settings.current()
    assert (current.team, current.auth, current.max_queued) == (True, "accounts", 5)


def test_a_proxy_header_alone_means_team_mode_through_that_proxy(monkeypatch):
    monkeypatch.setenv("WORKBENCH_USER_HEADER", "X-Forwarded-User")
    current = settings.current()
    assert (current.mode, current.auth, current.user_header) == ("team", "proxy", "X-Forwarded-User")


def test_settings_that_cannot_be_read_are_one_sentence(monkeypatch):
    monkeypatch.setenv("WORKBENCH_MODE", "teams")
    with pytest.raises(UserError, match="WORKBENCH_MODE is 'teams'; set it to one of: local, team"):
        settings.current()
    monkeypatch.setenv("WORKBENCH_MODE", "team")
    monkeypatch.setenv("WORKBENCH_AUTH", "proxy")
    with pytest.raises(UserError, match="WORKBENCH_USER_HEADER is not set"):
        settings.current()
    monkeypatch.setenv("WORKBENCH_AUTH", "accounts")
    monkeypatch.setenv("WORKBENCH_MAX_QUEUED", "lots")
    with pytest.raises(UserError, match="WORKBENCH_MAX_QUEUED is 'lots', not a number"):
        settings.current()
