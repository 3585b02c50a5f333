"""Sign-in sessions of built-in accounts: a random token, kept in the browser in an HttpOnly cookie signed with the
data folder's ``session-key`` (itsdangerous), and remembered in the database only as its SHA-256, so the table alone
signs no one in. A session ends at sign-out, after ``WORKBENCH_SESSION_HOURS``, or when the user is removed or their
password changes.
"""

import hashlib
import secrets
import time

from itsdangerous import BadSignature, URLSafeTimedSerializer

from workbench import paths
from workbench.team import settings, store


COOKIE = "wb_session"
MAX_COOKIE_LENGTH = 512  # anything longer is not one of ours: refused before any work is done on it


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(paths.secret("session-key"), salt="workbench-session")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(name: str) -> str:
    """A new session for ``name``; returns the signed cookie value."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with store.connect() as db:
        db.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
        db.execute(
            "INSERT INTO sessions (token_hash, user, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (_digest(token), name, now, now + settings.current().session_hours * 3600),
        )
    return _serializer().dumps(token)


def user_for(cookie: str | None) -> str | None:
    """The user a cookie signs in, or None for a missing, forged, expired or ended session."""
    token = _token(cookie)
    if token is None:
        return None
    with store.connect() as db:
        row = db.execute(
            "SELECT sessions.user FROM sessions JOIN users ON users.name = sessions.user "
            "WHERE token_hash = ? AND expires_at > ?",
            (_digest(token), time.time()),
        ).fetchone()
    return row["user"] if row else None


def end(cookie: str | None) -> str | None:
    """End the session a cookie holds (sign-out); returns whose it was."""
    token = _token(cookie)
    if token is None:
        return None
    with store.connect() as db:
        row = db.execute("DELETE FROM sessions WHERE token_hash = ? RETURNING user", (_digest(token),)).fetchone()
    return row["user"] if row else None


def end_all(name: str) -> None:
    with store.connect() as db:
        db.execute("DELETE FROM sessions WHERE user = ?", (name,))


def _token(cookie: str | None) -> str | None:
    if not cookie or len(cookie) > MAX_COOKIE_LENGTH:
        return None
    try:
        return _serializer().loads(cookie, max_age=settings.current().session_hours * 3600)
    except BadSignature:  # also a signature that has expired
        return None
