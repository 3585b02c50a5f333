"""The SQLite files in the data folder: one way to open them, so every table gets WAL mode, its schema, the columns
added after its first release, and one sentence for a full disk.

``jobs.sqlite`` holds the job queue (``workbench.jobs.queue``); ``team.sqlite`` holds users, sessions, sign-in
attempts, shares, API tokens and the audit log (``workbench.team``).
"""

import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from workbench import paths
from workbench.errors import DISK_FULL_FIX, UserError, is_disk_full


@contextmanager
def connect(
    path: Path, schema: str, holds: str, added_columns: Mapping[str, Mapping[str, str]] | None = None
) -> Iterator[sqlite3.Connection]:
    """A short-lived connection in autocommit and WAL mode, with ``schema`` (statements separated by ``;``) applied.

    ``holds`` names what the file holds for people ("the job list"). ``added_columns`` maps a table to the columns
    added after its first release (name to type), for databases made before them. On a full disk SQLite can neither
    write nor, in WAL mode, read: that is one sentence, not a traceback.
    """
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.row_factory = sqlite3.Row
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(schema)
        for table, columns in (added_columns or {}).items():
            _add_missing_columns(connection, table, columns)
        yield connection
    except sqlite3.OperationalError as error:
        if is_disk_full(error) or ("disk I/O error" in str(error) and _disk_nearly_full()):
            raise UserError(f"The server's disk is full, so {holds} cannot be used; {DISK_FULL_FIX}.") from None
        raise
    finally:
        connection.close()


def _disk_nearly_full() -> bool:
    return shutil.disk_usage(paths.home_path()).free < 1024**2


def _add_missing_columns(connection: sqlite3.Connection, table: str, columns: Mapping[str, str]) -> None:
    present = {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}
    for name, kind in columns.items():
        if name not in present:
            try:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            except sqlite3.OperationalError as error:
                if "duplicate column" not in str(error):  # another process added it a moment ago: fine
                    raise
