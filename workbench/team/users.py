"""The user list of team mode: names, roles (admin or member), password hashes for built-in accounts, and where
each user came from (``accounts``, ``oidc`` or ``proxy``: people who sign in through an OpenID provider or a proxy
are added as members the first time they are seen).

Only admins change users. The first admin is made from the command line on the server while there is none yet
(``workbench users add NAME --role admin``), or named in ``WORKBENCH_ADMINS``. The last admin cannot be removed or
made a member, so the server never loses its last way in.
"""

import sqlite3
import time
from dataclasses import dataclass

from workbench.errors import UserError
from workbench.team import audit, passwords, sessions, store
from workbench.team.identity import ROLES, Actor, admins_from_environment, check_name


@dataclass(frozen=True)
class User:
    """One row of the user list (the password hash stays in the table)."""

    name: str
    role: str
    source: str
    created_at: float
    has_password: bool


def find(name: str) -> User | None:
    with store.connect() as db:
        row = db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return _user(row)


def _user(row: sqlite3.Row | None) -> User | None:
    if row is None:
        return None
    return User(row["name"], row["role"], row["source"], row["created_at"], bool(row["password_hash"]))


def list_users() -> list[User]:
    with store.connect() as db:
        rows = db.execute("SELECT * FROM users ORDER BY name").fetchall()
    return [_user(row) for row in rows]


def role_of(name: str) -> str | None:
    """The role of a known user (``admin`` for names in ``WORKBENCH_ADMINS``), None for an unknown name."""
    if name in admins_from_environment():
        return "admin"
    user = find(name)
    return user.role if user else None


def has_admin() -> bool:
    with store.connect() as db:
        return db.execute("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1").fetchone() is not None


def password_hash(name: str) -> str | None:
    with store.connect() as db:
        row = db.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
    return row["password_hash"] if row else None


def add(actor: Actor, name: str, password: str | None, role: str = "member", source: str = "accounts") -> User:
    """A new user (with a password for a built-in account); only an admin may add one."""
    _check_admin(actor, "add users")
    name, role = check_name(name), _check_role(role)
    hashed = passwords.hash_password(password) if password is not None else None
    try:
        with store.connect() as db:
            db.execute(
                "INSERT INTO users (name, role, password_hash, source, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, role, hashed, source, time.time()),
            )
    except sqlite3.IntegrityError:
        raise UserError(f"There is already a user called {name}; pick another name.") from None
    audit.record(actor.name, "user added", name, f"role {role}")
    return find(name)


def seen(name: str, source: str) -> User:
    """The user signed in through an OpenID provider or a proxy, added as a member the first time they are seen."""
    name = check_name(name)
    with store.connect() as db:
        db.execute(
            "INSERT OR IGNORE INTO users (name, role, password_hash, source, created_at) "
            "VALUES (?, 'member', NULL, ?, ?)",
            (name, source, time.time()),
        )
    return find(name)


def remove(actor: Actor, name: str) -> None:
    """Remove a user and end their sessions and API tokens; what they made stays, owned by their name."""
    _check_admin(actor, "remove users")
    user = _existing(name)
    if user.role == "admin":
        _keep_an_admin(name)
    with store.connect() as db:
        db.execute("DELETE FROM users WHERE name = ?", (name,))
        db.execute("DELETE FROM tokens WHERE user = ?", (name,))
    sessions.end_all(name)
    audit.record(actor.name, "user removed", name)


def set_password(actor: Actor, name: str, password: str) -> None:
    """A new password for a built-in account: admins for anyone, a member for themselves. Other sessions end."""
    if actor.name != name:
        _check_admin(actor, "change other people's passwords")
    _existing(name)
    hashed = passwords.hash_password(password)
    with store.connect() as db:
        db.execute("UPDATE users SET password_hash = ?, source = 'accounts' WHERE name = ?", (hashed, name))
    sessions.end_all(name)
    audit.record(actor.name, "password changed", name)


def set_role(actor: Actor, name: str, role: str) -> None:
    _check_admin(actor, "change roles")
    user, role = _existing(name), _check_role(role)
    if user.role == "admin" and role != "admin":
        _keep_an_admin(name)
    with store.connect() as db:
        db.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))
    audit.record(actor.name, "role changed", name, f"{user.role} -> {role}")


def _existing(name: str) -> User:
    user = find(name)
    if user is None:
        raise UserError(f"There is no user called {name}; `workbench users list` shows who there is.")
    return user


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"'{role}' is not a role; use one of: {', '.join(ROLES)}.")
    return role


def _check_admin(actor: Actor, action: str) -> None:
    if not actor.admin:
        raise UserError(f"Only an admin can {action}; ask one of your workbench's admins.")


def _keep_an_admin(name: str) -> None:
    with store.connect() as db:
        others = db.execute("SELECT COUNT(*) FROM users WHERE role = 'admin' AND name != ?", (name,)).fetchone()[0]
    if not others:
        raise UserError(f"{name} is the last admin; make someone else an admin first.")
