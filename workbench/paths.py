"""Where the workbench keeps its files: one data folder, ``$WORKBENCH_HOME`` when set, otherwise
``~/.sft-workbench``, holding the runs, the dataset library, the demo model, the job database and the runner's log.

The files inside one run folder are named in ``workbench.runs.directory``.
"""

import os
import secrets
from pathlib import Path


def home_path() -> Path:
    """Where the data folder is (``$WORKBENCH_HOME``, else ``~/.sft-workbench``), without creating it."""
    return Path(os.environ.get("WORKBENCH_HOME") or Path.home() / ".sft-workbench").expanduser()


def workbench_home() -> Path:
    """The data folder, created on first use."""
    home = home_path()
    home.mkdir(parents=True, exist_ok=True)
    return home


def runs_dir() -> Path:
    path = workbench_home() / "runs"
    path.mkdir(exist_ok=True)
    return path


def models_dir() -> Path:
    path = workbench_home() / "models"
    path.mkdir(exist_ok=True)
    return path


def uploads_dir() -> Path:
    path = workbench_home() / "datasets"
    path.mkdir(exist_ok=True)
    return path


def jobs_db_path() -> Path:
    return workbench_home() / "jobs.sqlite"


def runner_log_path() -> Path:
    return workbench_home() / "runner.log"


def team_db_path() -> Path:
    return workbench_home() / "team.sqlite"


def secret(name: str, prefix: str = "") -> str:
    """A secret kept in the data folder (the model server's API key, the key that signs session cookies): made on
    first use, readable by the folder's owner only, and the same for every process and across restarts."""
    path = workbench_home() / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    value = f"{prefix}{secrets.token_urlsafe(24 if prefix else 48)}"
    temporary = path.with_name(f".{name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    try:
        os.link(temporary, path)  # whole or not at all; when two make one at once, the first one's value stands
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()
