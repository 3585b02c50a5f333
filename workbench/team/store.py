"""The team tables in ``team.sqlite``: users, sign-in sessions, failed sign-ins, shares, API tokens and the audit log.

The audit table refuses every UPDATE and DELETE (two triggers), so the log is append-only for everyone who uses the
workbench; only someone with the database file in hand could rewrite it.
"""

import sqlite3
from contextlib import AbstractContextManager

from workbench import database, paths


SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT,
    source TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS signin_failures (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS signin_failures_key ON signin_failures (key, at);
CREATE TABLE IF NOT EXISTS shares (
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    shared_by TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (kind, item)
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used REAL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def connect() -> AbstractContextManager[sqlite3.Connection]:
    """A short-lived connection to the team tables (see ``workbench.database.connect``)."""
    return database.connect(paths.team_db_path(), SCHEMA, "the user list")
