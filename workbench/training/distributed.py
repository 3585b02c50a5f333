"""Which process of a data-parallel run this one is (``torchrun`` sets RANK and WORLD_SIZE). Only the main process,
rank 0, writes the run directory (status, metrics, record, scores, the adapter); the others only train beside it."""

import os


def rank() -> int:
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def world_size() -> int:
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def is_main() -> bool:
    return rank() == 0
