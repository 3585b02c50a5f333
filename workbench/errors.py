"""The one exception type for problems a user can cause and fix, and the one sentence for a full disk.

A ``UserError``'s message is a plain sentence that says what is wrong and how to fix it; pages show it as it is,
never as a traceback. A full disk is not the user's doing, but it is something a person can fix, so every place that
writes the user's work turns it into a ``UserError`` with ``disk_space``.
"""

import errno
from collections.abc import Iterator
from contextlib import contextmanager


DISK_FULL_FIX = "delete old runs or their checkpoints (the Runs page's Disk box), or ask the admin to free space"


class UserError(Exception):
    """A problem the user caused and can fix; ``str(error)`` is the sentence to show them."""


def is_disk_full(error: BaseException) -> bool:
    """True for the errors a full disk (or an exceeded quota) raises: an OSError, or SQLite's own words for it."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(error)
    return "No space left on device" in text or "database or disk is full" in text


@contextmanager
def disk_space(action: str) -> Iterator[None]:
    """Turn a full disk inside the block into one sentence naming ``action`` (e.g. "saving the upload")."""
    try:
        yield
    except Exception as error:
        if is_disk_full(error):
            raise UserError(
                f"The server's disk is full, so {action} did not happen; {DISK_FULL_FIX}, then try again."
            ) from None
        raise
