"""Numbers read from ``WORKBENCH_*`` environment settings: a value that is missing or not a number gives the
default, so a typo in a setting never stops a process that reads it."""

import os


def number_setting(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default
