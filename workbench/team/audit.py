"""The audit trail: who did what, when, and from where, appended to a table that refuses updates and deletes.

Actions recorded: sign-in, sign-in failed, sign-out, upload, queue, start, cancel, resume, priority (an admin moved
a job to the front), delete, download, export, import, share, unshare, and changes to users, roles and API tokens.
A detail never holds a secret: no password, token or key is ever passed here.
"""

import time
from dataclasses import dataclass

from workbench.team import store


ACTIONS = (
    "sign-in",
    "sign-in failed",
    "sign-out",
    "upload",
    "queue",
    "start",
    "cancel",
    "resume",
    "priority",
    "delete",
    "download",
    "export",
    "import",
    "promote",
    "share",
    "unshare",
    "user added",
    "user removed",
    "password changed",
    "role changed",
    "token created",
    "token revoked",
)


@dataclass(frozen=True)
class Event:
    """One line of the audit log."""

    id: int
    at: float
    user: str
    action: str
    target: str
    detail: str
    address: str


def record(user: str, action: str, target: str = "", detail: str = "", address: str = "") -> None:
    """Append one event; ``action`` is one of ``ACTIONS``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    with store.connect() as db:
        db.execute(
            "INSERT INTO audit (at, user, action, target, detail, address) VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), user[:64], action, target[:200], detail[:500], address[:64]),
        )


def events(
    user: str = "", action: str = "", since: float | None = None, until: float | None = None, limit: int = 1000
) -> list[Event]:
    """Events newest first, filtered by user, action and time (each filter optional)."""
    clauses, values = [], []
    for clause, value in (("user = ?", user), ("action = ?", action), ("at >= ?", since), ("at < ?", until)):
        if value not in ("", None):
            clauses.append(clause)
            values.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    with store.connect() as db:
        rows = db.execute(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?", (*values, limit)).fetchall()
    return [Event(**dict(row)) for row in rows]
