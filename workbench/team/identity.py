"""Who is asking: an ``Actor`` (a name, a role, and how they reached the workbench), and the names people may have.

In local mode everyone is the server's user, an admin. In team mode the actor comes from a sign-in
(``workbench.team.signin``), an OpenID provider's identity, or the one proxy header that is configured
(``WORKBENCH_USER_HEADER``; no other header is ever read, since any browser can send one). The command line acts as
the user named with ``--user``, by default the operating-system user (``workbench.team.access.cli_actor``).
"""

import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from workbench.errors import UserError


NAME = re.compile(r"[\w.@+-]{1,64}")
ANONYMOUS = "anonymous"  # a request that should have named its user (WORKBENCH_USER_HEADER is set) but did not
ROLES = ("admin", "member")


@dataclass(frozen=True)
class Actor:
    """A person (or a script acting for one) asking the workbench to do something."""

    name: str
    role: str = "member"
    via: str = "local"  # local, accounts, oidc, proxy, cli or api

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def check_name(name: str) -> str:
    """The name, stripped, if it is a plain user name (letters, digits and ``.@+-_``, at most 64 characters)."""
    name = name.strip()
    if not NAME.fullmatch(name) or name == ANONYMOUS:
        raise UserError(f"'{name[:64]}' cannot be a user name; use letters, digits and . @ + - _ (at most 64).")
    return name


def server_user() -> str:
    """``WORKBENCH_USER`` when set, else the operating-system user of this process ('' when unknown)."""
    try:
        return os.environ.get("WORKBENCH_USER") or getpass.getuser()
    except (KeyError, OSError):
        return ""


def header_name(headers: Mapping[str, str], header: str) -> str:
    """The plain name in ``header`` (case-insensitive), or ``anonymous`` when it is missing or not a plain name, so
    a header can never put markup or a path into the job table."""
    value = next((value for key, value in headers.items() if key.lower() == header.lower()), "").strip()
    return value if NAME.fullmatch(value) and value != ANONYMOUS else ANONYMOUS


def admins_from_environment() -> set[str]:
    """Names that are admins whatever the user list says: ``WORKBENCH_ADMINS`` (comma-separated), for a first admin
    behind a proxy or an OpenID provider."""
    return {name.strip() for name in os.environ.get("WORKBENCH_ADMINS", "").split(",") if name.strip()}
