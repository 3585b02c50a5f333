"""Tests for workbench.team.identity: plain user names, the server's user, and the one configured proxy header."""

import getpass

import pytest

from workbench.errors import UserError
from workbench.team import identity


def test_only_the_configured_header_is_read_and_only_plain_names_are_taken():
    headers = {"X-Forwarded-User": "ops", "X-Auth-Request-User": "bob"}
    assert identity.header_name(headers, "X-Auth-Request-User") == "bob", "a header the proxy does not set is ignored"
    assert identity.header_name({"x-forwarded-user": " tom "}, "X-Forwarded-User") == "tom"
    for spoof in ("<script>alert(1)</script>", "../../etc/passwd", "", "a" * 65, "anonymous"):
        assert identity.header_name({"X-Forwarded-User": spoof}, "X-Forwarded-User") == identity.ANONYMOUS


def test_the_server_user_is_the_setting_or_the_operating_system_user(monkeypatch):
    monkeypatch.setenv("WORKBENCH_USER", "team-gpu")
    assert identity.server_user() == "team-gpu"
    monkeypatch.delenv("WORKBENCH_USER")
    assert identity.server_user() == getpass.getuser()


@pytest.mark.parametrize("name", ["../x", "a b", "", "x" * 65, "anonymous", "al/ice", "bob;rm"])
def test_names_that_could_be_markup_or_paths_are_refused(name):
    with pytest.raises(UserError, match="cannot be a user name"):
        identity.check_name(name)


def test_an_email_address_is_a_name():
    assert identity.check_name(" maria.lopez+ml@example.org ") == "maria.lopez+ml@example.org"
