"""The team settings, read from the environment each time they are asked for (so a test or an admin can change
them without a restart of the core): the mode, how people sign in, the queue's limits and where models may come from.

``WORKBENCH_MODE`` is ``local`` (the default: one user, no sign-in, bound to 127.0.0.1) or ``team``. In team mode
``WORKBENCH_AUTH`` picks the sign-in: ``accounts`` (built-in, the default), ``oidc`` (Streamlit's OpenID Connect,
configured in ``.streamlit/secrets.toml``) or ``proxy`` (an authenticating reverse proxy names the user in
``WORKBENCH_USER_HEADER``). Setting ``WORKBENCH_USER_HEADER`` alone, as before team mode existed, means team mode
through that proxy.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import UserError


MODES = ("local", "team")
AUTH_METHODS = ("accounts", "oidc", "proxy")


@dataclass(frozen=True)
class Settings:
    """Everything the team rules depend on."""

    mode: str = "local"
    auth: str = "accounts"
    user_header: str = ""
    max_queued: int = 0  # queued jobs one user may have at once; 0: no cap
    gpu_hours: float = 0.0  # GPU-hours one user may use within the window; 0: no quota
    quota_days: float = 7.0
    model_dirs: tuple[Path, ...] = ()
    hub_models: tuple[str, ...] = ()
    signin_attempts: int = 5  # failed sign-ins for one name, or from one address, before a pause
    signin_pause_s: float = 900.0
    session_hours: float = 72.0

    @property
    def team(self) -> bool:
        return self.mode == "team"


def current() -> Settings:
    """The settings as the environment gives them now; a value that cannot be read is one sentence."""
    header = os.environ.get("WORKBENCH_USER_HEADER", "").strip()
    mode = os.environ.get("WORKBENCH_MODE", "").strip().lower() or ("team" if header else "local")
    auth = os.environ.get("WORKBENCH_AUTH", "").strip().lower() or ("proxy" if header else "accounts")
    _check_choice("WORKBENCH_MODE", mode, MODES)
    _check_choice("WORKBENCH_AUTH", auth, AUTH_METHODS)
    if mode == "team" and auth == "proxy" and not header:
        raise UserError(
            "WORKBENCH_AUTH is proxy but WORKBENCH_USER_HEADER is not set; name the header your proxy sets."
        )
    return Settings(
        mode=mode,
        auth=auth,
        user_header=header,
        max_queued=int(_number("WORKBENCH_MAX_QUEUED", 5 if mode == "team" else 0)),
        gpu_hours=_number("WORKBENCH_GPU_HOURS", 0.0),
        quota_days=_number("WORKBENCH_QUOTA_DAYS", 7.0),
        model_dirs=tuple(
            Path(part).expanduser().resolve()
            for part in os.environ.get("WORKBENCH_MODEL_DIRS", "").split(os.pathsep)
            if part.strip()
        ),
        hub_models=tuple(
            part.strip() for part in os.environ.get("WORKBENCH_HUB_MODELS", "").split(",") if part.strip()
        ),
        signin_attempts=int(_number("WORKBENCH_SIGNIN_ATTEMPTS", 5)),
        signin_pause_s=_number("WORKBENCH_SIGNIN_PAUSE_S", 900.0),
        session_hours=_number("WORKBENCH_SESSION_HOURS", 72.0),
    )


def _check_choice(variable: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UserError(f"{variable} is '{value}'; set it to one of: {', '.join(choices)}.")


def _number(variable: str, default: float) -> float:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{variable} is '{text}', not a number; set it to a number such as {default:g}.") from None
    if value < 0:
        raise UserError(f"{variable} is {text}; set it to 0 or more.")
    return value
