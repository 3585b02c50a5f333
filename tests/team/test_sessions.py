"""Tests for workbench.team.sessions: signed cookies, stored only as hashes, that end at sign-out or expiry."""

import hashlib
import sqlite3
import stat
import time

from workbench.team import sessions


def test_a_session_cookie_is_signed_and_the_database_holds_only_its_hash(team_home):
    cookie = sessions.start("alice")
    assert sessions.user_for(cookie) == "alice"
    token = sessions._serializer().loads(cookie)
    rows = sqlite3.connect(team_home / "team.sqlite").execute("SELECT token_hash FROM sessions").fetchall()
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(),)]
    assert token not in (team_home / "team.sqlite").read_bytes().decode("latin-1")
    assert stat.S_IMODE((team_home / "session-key").stat().st_mode) == 0o600


def test_a_forged_or_tampered_or_oversized_cookie_signs_nobody_in(team_home):
    cookie = sessions.start("alice")
    forged = sessions.URLSafeTimedSerializer("a guessed key", salt="workbench-session").dumps("any token")
    tampered = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    for bad in (forged, tampered, "", None, "x" * 10_000, cookie + "." + cookie):
        assert sessions.user_for(bad) is None


def test_a_session_ends_at_sign_out_and_after_its_hours(team_home, monkeypatch):
    cookie = sessions.start("alice")
    assert sessions.end(cookie) == "alice"
    assert sessions.user_for(cookie) is None
    monkeypatch.setenv("WORKBENCH_SESSION_HOURS", str(1 / 3600))  # one second
    short = sessions.start("alice")
    assert sessions.user_for(short) == "alice"
    time.sleep(2.1)
    assert sessions.user_for(short) is None
