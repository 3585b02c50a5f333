"""Signing in with a built-in account: the password checked against its argon2 hash, and failed attempts counted
per name and per address, so that after ``WORKBENCH_SIGNIN_ATTEMPTS`` failures within ``WORKBENCH_SIGNIN_PAUSE_S``
that name (or address) must wait, and the password is not even checked meanwhile.

A wrong password and an unknown name get the same sentence and take the same time, so the form does not tell which
names exist.
"""

import time

from workbench import words
from workbench.errors import UserError
from workbench.team import audit, passwords, sessions, settings, store, users
from workbench.team.identity import NAME, Actor


WRONG = "That name and password do not match; check both and try again."


def sign_in(name: str, password: str, address: str = "") -> str:
    """Check a name and password; returns a signed session cookie, or raises a UserError that says what to do."""
    name = name.strip()[:64]
    keys = [f"name:{name.lower()}", f"address:{address}"] if address else [f"name:{name.lower()}"]
    wait = _wait_s(keys)
    if wait > 0:
        audit.record(_loggable(name), "sign-in failed", detail="paused after too many failures", address=address)
        raise UserError(
            f"Too many failed sign-ins; wait {words.format_duration(wait)} and try again, or ask an admin."
        )
    user = users.find(name) if NAME.fullmatch(name) else None
    if not passwords.verify(users.password_hash(name) if user else None, password):
        _count_failure(keys)
        audit.record(_loggable(name), "sign-in failed", address=address)
        raise UserError(WRONG)
    _forget_failures(f"name:{name.lower()}")
    cookie = sessions.start(name)
    audit.record(name, "sign-in", detail="password", address=address)
    return cookie


def sign_out(cookie: str | None, address: str = "") -> None:
    name = sessions.end(cookie)
    if name:
        audit.record(name, "sign-out", address=address)


def _loggable(name: str) -> str:
    return name if NAME.fullmatch(name) else "(not a user name)"


def _wait_s(keys: list[str]) -> float:
    """Seconds until any of these keys may try again (0: now)."""
    limits = settings.current()
    since = time.time() - limits.signin_pause_s
    longest = 0.0
    with store.connect() as db:
        for key in keys:
            rows = db.execute(
                "SELECT at FROM signin_failures WHERE key = ? AND at > ? ORDER BY at DESC", (key, since)
            ).fetchall()
            if len(rows) >= limits.signin_attempts:
                longest = max(longest, rows[0]["at"] + limits.signin_pause_s - time.time())
    return longest


def _count_failure(keys: list[str]) -> None:
    now = time.time()
    with store.connect() as db:
        db.execute("DELETE FROM signin_failures WHERE at < ?", (now - 86400,))
        db.executemany("INSERT INTO signin_failures (key, at) VALUES (?, ?)", [(key, now) for key in keys])


def _forget_failures(key: str) -> None:
    with store.connect() as db:
        db.execute("DELETE FROM signin_failures WHERE key = ?", (key,))


def note_oidc_signin(name: str, issued_at: str, address: str = "") -> None:
    """Record a sign-in through the OpenID provider once per identity token (its issue time tells them apart; the
    provider itself records failed attempts)."""
    detail = f"openid, token issued {issued_at}"
    with store.connect() as db:
        seen = db.execute(
            "SELECT 1 FROM audit WHERE user = ? AND action = 'sign-in' AND detail = ? LIMIT 1", (name, detail)
        ).fetchone()
    if seen is None:
        audit.record(name, "sign-in", detail=detail, address=address)


def change_own_password(actor: Actor, current: str, new: str) -> None:
    """A signed-in user's new password, once their current one is confirmed (counted like a failed sign-in when it
    is wrong); their other sessions end."""
    keys = [f"name:{actor.name.lower()}"]
    if _wait_s(keys) > 0:
        raise UserError("Too many wrong passwords; wait a while and try again, or ask an admin.")
    if not passwords.verify(users.password_hash(actor.name), current):
        _count_failure(keys)
        raise UserError("The current password is not right; type it again.")
    users.set_password(actor, actor.name, new)
