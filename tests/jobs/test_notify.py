"""Notifications: the runner POSTs one JSON notice to the configured webhook when a run ends."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from conftest import start_runner, stop_process, wait_for

from workbench.jobs import control, notify
from workbench.planning import presets
from workbench.runs import directory, record
from workbench.team.identity import Actor


@pytest.fixture
def webhook():
    """A real HTTP server on a free local port that keeps the JSON bodies POSTed to it."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received = received
    server.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield server
    server.shutdown()


def test_the_notice_is_one_line_for_people_and_fields_for_scripts(monkeypatch):
    monkeypatch.setenv("WORKBENCH_PUBLIC_URL", "https://gpu.example.org/")
    body = notify.payload("20261201-demo", "failed", "The GPU ran out of memory.", "alice")
    assert body["text"] == (
        "SFT Workbench: run 20261201-demo (started by alice) failed. The GPU ran out of memory. "
        "https://gpu.example.org/runs"
    )
    assert (body["state"], body["owner"], body["url"]) == ("failed", "alice", "https://gpu.example.org/runs")


def test_send_posts_json_and_a_dead_webhook_is_reported_not_raised(webhook, capsys):
    assert notify.send({"text": "hello"}, webhook.url)
    assert webhook.received == [{"text": "hello"}]
    assert not notify.send({"text": "hello"}, "http://127.0.0.1:9/services/T000/B000/secret-token")
    logged = capsys.readouterr().out
    assert "Could not notify http://127.0.0.1" in logged and "secret-token" not in logged
    assert not notify.send({"text": "hello"}, "file:///etc/passwd"), "only http(s) URLs are called"
    assert "must start with http" in capsys.readouterr().out


def test_the_runner_notifies_when_a_run_finishes(demo_home, webhook, monkeypatch):
    monkeypatch.setenv("WORKBENCH_NOTIFY_URL", webhook.url)
    job = control.submit(presets.demo_config(max_steps=3, validation_fraction=0.0), actor=Actor("alice"), peak_gb=1.25)
    runner = start_runner(demo_home, idle_exit=10)
    try:
        [notice] = wait_for(lambda: webhook.received, timeout=180, what="the webhook notice")
    finally:
        stop_process(runner)
    assert (notice["run_id"], notice["state"], notice["owner"]) == (job.run_id, "succeeded", "alice")
    assert notice["text"].startswith(f"SFT Workbench: run {job.run_id} (started by alice) finished.")
    facts = record.read_record(directory.get_run(job.run_id).path)
    assert facts["estimated_peak_gb"] == 1.25, "the job's pre-flight estimate reaches the run record"
    assert facts["measured_peak_gb"] > 0.1
