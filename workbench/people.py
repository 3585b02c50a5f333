"""Who is using the workbench, so that jobs, runs and dataset versions say who started or saved them.

Behind an authenticating reverse proxy the browser user's name arrives in a request header (``X-Forwarded-User``,
``X-Remote-User`` or ``X-Auth-Request-User``, as oauth2-proxy, Apache and nginx set them); otherwise the name is
``WORKBENCH_USER`` when set, else the operating-system user the server runs as.

A run belongs to whoever started it: only they, the server's own user (whoever has a shell on the server, which
includes the command line) and the names in ``WORKBENCH_ADMINS`` (comma-separated) may cancel or resume it. Without
a proxy every browser user is the server's user, so a single-user install is never refused anything.
"""

import getpass
import os
import re
from collections.abc import Mapping


USER_HEADERS = ("x-forwarded-user", "x-remote-user", "x-auth-request-user", "remote-user")
NAME = re.compile(r"[\w.@+-]{1,64}")


def server_user() -> str:
    """``WORKBENCH_USER`` when set, else the operating-system user of this process ('' when unknown)."""
    try:
        return os.environ.get("WORKBENCH_USER") or getpass.getuser()
    except (KeyError, OSError):
        return ""


def user_from_headers(headers: Mapping[str, str]) -> str:
    """The user an authenticating proxy named in the request headers, else ``server_user()``.

    Only plain names are taken (letters, digits and ``.@+-_``, at most 64 characters), so a header can never put
    markup or a path into the job table.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    for header in USER_HEADERS:
        value = (lowered.get(header) or "").strip()
        if NAME.fullmatch(value):
            return value
    return server_user()


def admins() -> set[str]:
    """The names allowed to control every run: ``WORKBENCH_ADMINS`` (comma-separated) and the server's user."""
    named = {name.strip() for name in os.environ.get("WORKBENCH_ADMINS", "").split(",") if name.strip()}
    return named | ({server_user()} - {""})


def may_control(owner: str, user: str) -> bool:
    """Whether ``user`` may cancel or resume a run that ``owner`` started."""
    return not owner or user == owner or user in admins()
