"""Numbers read from ``WORKBENCH_*`` environment settings: a value that is missing, not a number or not finite
('inf', 'nan') gives the default, so a typo in a setting never stops a process that reads it."""

import math
import os


def number_setting(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if math.isfinite(value) else default
