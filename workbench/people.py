"""Who is using the workbench, so that jobs, runs and dataset versions say who started or saved them.

Behind an authenticating reverse proxy the browser user's name arrives in a request header; set
``WORKBENCH_USER_HEADER`` to the one header your proxy sets (oauth2-proxy: ``X-Forwarded-User``, Apache:
``X-Remote-User``). Only that header is then read, and a request without a usable name in it is ``anonymous``
(never the server's user). Without the setting no header is trusted, since any browser can send one: every browser
user is ``WORKBENCH_USER`` when set, else the operating-system user the server runs as.

A run belongs to whoever started it: only they and the names in ``WORKBENCH_ADMINS`` (comma-separated) may cancel,
resume or delete it from the browser; the command line on the server may always. Without a proxy every browser user
is the server's user, who owns the runs started there, so a single-user install is never refused anything.
"""

import getpass
import os
import re
from collections.abc import Mapping

from workbench.errors import UserError


NAME = re.compile(r"[\w.@+-]{1,64}")
ANONYMOUS = "anonymous"  # a request that should have named its user (WORKBENCH_USER_HEADER is set) but did not


def server_user() -> str:
    """``WORKBENCH_USER`` when set, else the operating-system user of this process ('' when unknown)."""
    try:
        return os.environ.get("WORKBENCH_USER") or getpass.getuser()
    except (KeyError, OSError):
        return ""


def user_from_headers(headers: Mapping[str, str]) -> str:
    """The user named in the configured proxy header (``anonymous`` without one), or ``server_user()`` when no
    header is configured.

    Only plain names are taken (letters, digits and ``.@+-_``, at most 64 characters), so a header can never put
    markup or a path into the job table.
    """
    configured = os.environ.get("WORKBENCH_USER_HEADER", "").strip().lower()
    if not configured:
        return server_user()
    value = next((value for key, value in headers.items() if key.lower() == configured), "").strip()
    return value if NAME.fullmatch(value) else ANONYMOUS


def admins() -> set[str]:
    """The names allowed to control every run from the browser: ``WORKBENCH_ADMINS`` (comma-separated)."""
    return {name.strip() for name in os.environ.get("WORKBENCH_ADMINS", "").split(",") if name.strip()}


def may_control(owner: str, user: str | None) -> bool:
    """Whether ``user`` may cancel, resume or delete a run that ``owner`` started (``None``: the command line)."""
    if user is None:
        return True
    return user != ANONYMOUS and (not owner or user == owner or user in admins())


def check_control(owner: str, user: str | None, action: str) -> None:
    """Refuse ``action`` (e.g. "cancel") on a run ``owner`` started, in words, unless ``may_control`` allows it."""
    if not may_control(owner, user):
        raise UserError(f"This run was started by {owner}; only {owner} or an admin can {action} it.")
