"""Personal API tokens for the model server's OpenAI-compatible API in team mode: each user makes their own, sees
only the runs they may see through it, and can revoke it. Only the SHA-256 of a token is stored; the token itself
is shown once, when it is made.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass

from workbench.errors import UserError
from workbench.team import audit, store, users
from workbench.team.identity import Actor


PREFIX = "wbu-"


@dataclass(frozen=True)
class Token:
    """A token as its owner sees it later: an id (the start of its hash), a label, when it was made and last used."""

    id: str
    user: str
    label: str
    created_at: float
    last_used: float | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(actor: Actor, label: str) -> str:
    """A new token for the actor; returns it (the only time it is shown)."""
    label = label.strip()[:64] or "API token"
    token = f"{PREFIX}{secrets.token_urlsafe(32)}"
    with store.connect() as db:
        db.execute(
            "INSERT INTO tokens (token_hash, user, label, created_at) VALUES (?, ?, ?, ?)",
            (_digest(token), actor.name, label, time.time()),
        )
    audit.record(actor.name, "token created", label)
    return token


def actor_for(token: str) -> Actor | None:
    """The user a token acts for (still a user), or None."""
    if not token.startswith(PREFIX) or len(token) > 128:
        return None
    with store.connect() as db:
        row = db.execute(
            "UPDATE tokens SET last_used = ? WHERE token_hash = ? RETURNING user", (time.time(), _digest(token))
        ).fetchone()
    role = users.role_of(row["user"]) if row else None
    return Actor(row["user"], role, "api") if role else None


def list_tokens(actor: Actor) -> list[Token]:
    """The actor's own tokens (an admin's list holds everyone's)."""
    query = "SELECT * FROM tokens" + ("" if actor.admin else " WHERE user = ?") + " ORDER BY created_at DESC"
    with store.connect() as db:
        rows = db.execute(query, () if actor.admin else (actor.name,)).fetchall()
    return [
        Token(row["token_hash"][:12], row["user"], row["label"], row["created_at"], row["last_used"]) for row in rows
    ]


def revoke(actor: Actor, token_id: str) -> None:
    """Revoke one of the actor's tokens by its id (an admin may revoke anyone's)."""
    mine = [token for token in list_tokens(actor) if token.id == token_id.strip()]
    if not mine:
        raise UserError(f"There is no token {token_id.strip()[:12]} of yours; the token list shows their ids.")
    with store.connect() as db:
        db.execute("DELETE FROM tokens WHERE substr(token_hash, 1, 12) = ?", (mine[0].id,))
    audit.record(actor.name, "token revoked", mine[0].label)
