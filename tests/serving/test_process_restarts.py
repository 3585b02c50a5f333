"""Tests for workbench.serving.process: one server per data folder, found again, and started again (with the same
key) after it was killed."""

import os
import signal
import time

from workbench.serving import client, process


def test_a_killed_server_is_found_gone_and_started_again_with_the_same_key(demo_home):
    assert not process.announced_but_gone() and process.running_server() is None
    first = process.ensure_server()
    assert process.ensure_server() == first, "a second caller finds the same server"
    assert client.list_models(first) == ["demo"], "the built-in demo model is always there"
    os.kill(first.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while process.running_server() is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.announced_but_gone()
    second = process.ensure_server()
    assert second.pid != first.pid and second.key == first.key
    assert oct((demo_home / "api-key").stat().st_mode & 0o777) == "0o600"


def test_a_second_server_on_the_same_folder_refuses_to_start(demo_home, capsys):
    process.ensure_server()
    assert process.serve_forever("127.0.0.1", 0) == 1
    assert "already runs" in capsys.readouterr().err


def test_processes_making_the_key_at_once_all_get_the_same_one(demo_home):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: process.api_key(), range(8)))
    assert len(keys) == 1 and (demo_home / "api-key").read_text() == keys.pop()
    assert [path.name for path in demo_home.iterdir() if path.name.startswith(".api-key")] == []
