"""Tests for workbench.team.passwords: argon2id hashes, the length rules, and no match without a hash."""

import pytest

from workbench.errors import UserError
from workbench.team import passwords


def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_only_itself():
    hashed = passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert passwords.verify(hashed, "correct horse battery")
    assert not passwords.verify(hashed, "correct horse battery!")
    assert not passwords.verify(None, "correct horse battery"), "a user without a password never signs in with one"
    assert not passwords.verify("not a hash", "anything at all")


def test_too_short_and_too_long_passwords_are_refused_in_words():
    with pytest.raises(UserError, match="at least 10 characters"):
        passwords.hash_password("short")
    with pytest.raises(UserError, match="at most 256"):
        passwords.hash_password("x" * 257)
    assert not passwords.verify(passwords.hash_password("y" * 256), "y" * 100_000), "huge input is not even hashed"
