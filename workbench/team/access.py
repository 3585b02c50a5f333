"""Who may do what: the actor for each way in (local mode, the command line, a session cookie, an OpenID identity,
a proxy header, an API token), and the ownership rules every core action checks.

The rules, in team mode: datasets (with their versions) and runs (with their adapters, merged models, scores and
answers) belong to whoever made them. A member sees, chats with, downloads and merges what is theirs or shared
with the team; cancels, resumes, deletes and shares only what is theirs. Admins see and manage everything. Things
made before owners were recorded are seen by all and managed by admins. In local mode the one user is an admin,
so nothing is refused.
"""

import fnmatch
import time
from collections.abc import Mapping
from pathlib import Path

from workbench.errors import UserError
from workbench.team import audit, sessions, settings, store, users
from workbench.team.identity import ANONYMOUS, Actor, check_name, header_name, server_user


KINDS = ("run", "dataset")


def local_actor() -> Actor:
    """The one user of local mode: the server's user, an admin."""
    return Actor(server_user() or "local", "admin", "local")


def cli_actor(name: str | None = None) -> Actor:
    """The command line acting for ``name`` (default: the operating-system user). In team mode the name must be a
    user, except while there is no admin yet: then the command line is the admin who sets the server up."""
    name = check_name(name or server_user() or "root")
    if not settings.current().team:
        return Actor(name, "admin", "cli")
    role = users.role_of(name)
    if role is None and not users.has_admin():
        return Actor(name, "admin", "cli")
    if role is None:
        raise UserError(f"There is no user called {name} in this team workbench; pass --user with your user name.")
    return Actor(name, role, "cli")


def session_actor(cookie: str | None) -> Actor | None:
    """The built-in account a session cookie signs in, or None."""
    name = sessions.user_for(cookie)
    return _known(name, "accounts") if name else None


def proxy_actor(headers: Mapping[str, str]) -> Actor | None:
    """The user the configured proxy header names (added as a member on first sight), or None without a name."""
    name = header_name(headers, settings.current().user_header)
    if name == ANONYMOUS:
        return None
    users.seen(name, "proxy")
    return _known(name, "proxy")


def oidc_actor(email: str) -> Actor | None:
    """The user an OpenID provider signed in, by their e-mail address (added as a member on first sight)."""
    try:
        name = check_name(email)
    except UserError:
        return None
    users.seen(name, "oidc")
    return _known(name, "oidc")


def _known(name: str, via: str) -> Actor | None:
    role = users.role_of(name)
    return Actor(name, role, via) if role else None


def may_see(actor: Actor, owner: str, kind: str, item: str) -> bool:
    """Whether ``actor`` may see, chat with, download or merge an item ``owner`` made."""
    return actor.admin or not owner or owner == actor.name or is_shared(kind, item)


def may_manage(actor: Actor, owner: str) -> bool:
    """Whether ``actor`` may cancel, resume, delete or share an item ``owner`` made."""
    return actor.admin or (bool(owner) and owner == actor.name)


def check_see(actor: Actor, owner: str, kind: str, item: str) -> None:
    """Refuse in words, without saying whose it is or what it holds."""
    if not may_see(actor, owner, kind, item):
        raise UserError(f"There is no {kind} '{item}' that you can see; pick one from the list.")


def check_manage(actor: Actor, owner: str, action: str, kind: str = "run") -> None:
    """Refuse ``action`` (e.g. "cancel") on an item ``owner`` made, in words, unless ``may_manage`` allows it."""
    if not may_manage(actor, owner):
        who = owner or "someone before owners were recorded"
        raise UserError(f"This {kind} was made by {who}; only they or an admin can {action} it.")


def is_shared(kind: str, item: str) -> bool:
    with store.connect() as db:
        return db.execute("SELECT 1 FROM shares WHERE kind = ? AND item = ?", (kind, item)).fetchone() is not None


def set_shared(actor: Actor, kind: str, item: str, owner: str, shared: bool) -> None:
    """Share an item with the team, or stop sharing it; only its owner or an admin may."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    check_manage(actor, owner, "share", kind)
    with store.connect() as db:
        if shared:
            db.execute(
                "INSERT OR IGNORE INTO shares (kind, item, shared_by, at) VALUES (?, ?, ?, ?)",
                (kind, item, actor.name, time.time()),
            )
        else:
            db.execute("DELETE FROM shares WHERE kind = ? AND item = ?", (kind, item))
    audit.record(actor.name, "share" if shared else "unshare", f"{kind} {item}")


def check_model_source(model: str) -> None:
    """In team mode a model comes only from a folder in ``WORKBENCH_MODEL_DIRS`` (symbolic links resolved) or a hub
    id matching ``WORKBENCH_HUB_MODELS`` (``Qwen/*`` patterns allowed); the built-in demo is always allowed and is
    not checked here. The refusal reads the same whether or not a path exists."""
    limits = settings.current()
    if not limits.team:
        return
    text = model.strip()
    path = Path(text).expanduser()
    if path.is_absolute() or text.startswith((".", "~")) or path.exists():
        if any(path.resolve().is_relative_to(folder) for folder in limits.model_dirs):
            return
        raise UserError(_outside_sources(limits))
    if any(fnmatch.fnmatchcase(text, pattern) for pattern in limits.hub_models):
        return
    raise UserError(_outside_sources(limits))


def _outside_sources(limits: settings.Settings) -> str:
    places = [str(folder) for folder in limits.model_dirs] + list(limits.hub_models)
    allowed = f"these places: {', '.join(places)}" if places else "the built-in demo (no other source is configured)"
    return f"In this team workbench models come only from {allowed}; ask an admin to add the model you need."


def acting(actor: Actor | None) -> Actor:
    """The actor, or when none is given, who the command line acts for by default (the operating-system user)."""
    return actor if actor is not None else cli_actor()
