"""A team server under load, as `benchmarks/bench_team_load.py` measures it: 20 signed-in chromium sessions click
through the pages of one team-mode server while a demo job trains, and a short job trains alone before and after.

The test holds the load to what a user would notice: every session signs in, every page it asks for is drawn, no
session sees an error, and the job still finishes. The timings and the steps-per-second ratio are reported (printed
and kept in the test's folder as JSON), not asserted: speed targets live in `benchmarks/`, not in timed tests.
"""

import importlib.util
import json
import sys

import pytest
from app_server import ROOT, needs_chromium
from leftovers import stop_workbench


pytestmark = [pytest.mark.e2e, needs_chromium]
SESSIONS = 20


def load_benchmark():
    spec = importlib.util.spec_from_file_location("bench_team_load", ROOT / "benchmarks" / "bench_team_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_twenty_signed_in_sessions_all_draw_their_pages_while_a_job_trains(tmp_path, monkeypatch, capsys):
    home = tmp_path / "load-home"
    home.mkdir()
    for name, value in (("WORKBENCH_HOME", str(home)), ("WORKBENCH_MODE", "team")):
        monkeypatch.setenv(name, value)  # the benchmark sets these for itself; this puts them back afterwards
    bench = load_benchmark()
    try:
        # 3 epochs of the demo (48 steps): every session is clicking while it trains; the job alone once, before
        arguments = ["--sessions", str(SESSIONS), "--epochs", "3", "--once", "--json", "--home", str(home)]
        assert bench.main(arguments) == 0
    finally:
        stop_workbench(home)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (tmp_path / "load.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result), file=sys.stderr)
    assert result["errors"] == []
    assert result["pages_drawn"] >= SESSIONS, "each session drew at least its first page after signing in"
    assert result["steps_per_s_loaded"] > 0 and all(rate > 0 for rate in result["steps_per_s_alone"])
    assert result["page_p95_s"] >= result["page_median_s"] > 0
