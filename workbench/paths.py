"""Where the workbench keeps its files, and the names of the files inside a run directory.

Everything the workbench writes lives under one data folder: ``$WORKBENCH_HOME`` when set, otherwise
``~/.sft-workbench``. The run directory is the interface between the web app and the training process, so its
file names are defined here, once.
"""

import os
from pathlib import Path


# Files inside one run directory.
CONFIG_FILE = "config.yaml"
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
LOG_FILE = "train.log"
EVAL_FILE = "eval.json"
ADAPTER_DIR = "adapter"
CHECKPOINTS_DIR = "checkpoints"


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
