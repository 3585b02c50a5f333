"""Starting the model server and finding it again: one server per data folder, holding ``model-server.lock`` for its
life and announcing where it listens in ``model-server.json``, so a restarted web server (or a script) finds it.

The API key lives in ``api-key`` (readable by the folder's owner only) and stays the same across restarts, so a
script keeps working after the server is started again.
"""

import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from workbench import paths
from workbench.errors import UserError
from workbench.jobs import processes


START_TIMEOUT_S = 60.0
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Address:
    """Where a live model server listens, and the key it wants."""

    url: str  # http://127.0.0.1:PORT
    key: str
    pid: int


def _lock_path() -> Path:
    return paths.workbench_home() / "model-server.lock"


def _state_path() -> Path:
    return paths.workbench_home() / "model-server.json"


def log_path() -> Path:
    return paths.workbench_home() / "model-server.log"


def api_key() -> str:
    """The data folder's API key, made on first use."""
    return paths.secret("api-key", prefix="wb-")


def take_lock() -> int | None:
    """Take the server lock for the life of this process; None when another server holds it."""
    return processes.try_lock(_lock_path())


def announce(host: str, port: int) -> None:
    """Say where this process listens (written whole, then renamed, so a reader never sees half of it)."""
    record = {"host": host, "port": port, "pid": os.getpid(), "start": processes.process_start_time(os.getpid())}
    temporary = _state_path().with_suffix(".tmp")
    temporary.write_text(json.dumps(record))
    temporary.replace(_state_path())


def running_server() -> Address | None:
    """The live server of this data folder, or None (no announcement, or its process has gone)."""
    try:
        record = json.loads(_state_path().read_text())
        pid, host, port = int(record["pid"]), str(record["host"]), int(record["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not processes.process_alive(pid, record.get("start")):
        return None
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return Address(f"http://{shown_host}:{port}", api_key(), pid)


def announced_but_gone() -> bool:
    """True when a server announced itself here and its process has gone (it was killed or crashed)."""
    return _state_path().is_file() and running_server() is None


def ensure_server() -> Address:
    """The running server, started (detached, in the background) when there is none; waits until it answers."""
    spawned = False
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        address = running_server()
        if address is not None and _answers(address):
            return address
        # A killed server's lock is freed only once its last thread has gone, a moment after its pid has: ask again
        # on every turn rather than once.
        if not spawned and not processes.lock_held(_lock_path()):
            processes.spawn_detached([sys.executable, "-m", "workbench.cli", "serve", "--port", "0"], log_path())
            spawned = True
        time.sleep(0.2)
    raise UserError(
        f"The model server did not start within {START_TIMEOUT_S:.0f} s; see {log_path().name} in the data folder."
    )


def _answers(address: Address) -> bool:
    from urllib.parse import urlparse

    parts = urlparse(address.url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1.0):
            return True
    except OSError:
        return False


def serve_forever(host: str = DEFAULT_HOST, port: int = 0) -> int:
    """Run the model server in this process until it is stopped; 1 when another server already holds the folder, 2
    when its engine setting is wrong."""
    import uvicorn

    from workbench.serving import engine
    from workbench.serving.api import create_app

    try:
        chosen = engine.from_settings()
    except UserError as error:
        print(error, file=sys.stderr)
        return 2
    lock = take_lock()
    if lock is None:
        print("A model server already runs on this data folder.", file=sys.stderr)
        return 1
    port = port or processes.free_port(host)
    config = uvicorn.Config(create_app(chosen, api_key()), host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    announce(host, port)
    print(f"Model server listening on http://{host}:{port}/v1", flush=True)
    try:
        server.run()
    finally:
        chosen.close()
        os.close(lock)
    return 0
