"""Helpers for the real-browser tests: start the app as `make run` does; the chromium flags the browser fixture uses.

Playwright comes from pip and never downloads a browser of its own; it launches /usr/bin/chromium with the flags a
machine without outside network needs (no background connections, no first-run checks).
"""

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import wait_for


CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# In CI a missing chromium is a failure (the test runs and cannot launch), never a silent skip.
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs chromium")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


def start_server(
    home: Path, start_runner: bool = True, port: int | None = None, extra: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, str]:
    """`python serve.py` on a free port (or ``port``), as `make run` starts it, with ``extra`` Streamlit options; with
    ``start_runner`` the app starts its runner."""
    port = port or free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_START_RUNNER": "1" if start_runner else "0"}
    options = ["--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}"]
    options += ["--browser.gatherUsageStats=false", "--server.fileWatcherType=none", *extra]
    with open(home / "streamlit-test.log", "ab") as log:
        server = subprocess.Popen(
            [sys.executable, "serve.py", *options],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: healthy(url), timeout=60, what="the streamlit server")
    return server, url
