"""Where the workbench keeps its files: one data folder, ``$WORKBENCH_HOME`` when set, otherwise
``~/.sft-workbench``, holding the runs, the dataset library, the demo model, the job database and the runner's log.

The files inside one run folder are named in ``workbench.runs.directory``.
"""

import os
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
