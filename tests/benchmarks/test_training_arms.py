"""Tests for benchmarks/training_arms.py: one small round of two arms, to show the benchmark measures what it says
(the full benchmark is ``make bench``; its figures are in benchmarks/RESULTS.md, never asserted here)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import link_demo_model


BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))


def test_the_workbench_default_trains_to_the_plain_scripts_loss_without_padding(home, demo_model_dir, tmp_path):
    import training_fixtures

    link_demo_model(home, demo_model_dir)
    model = training_fixtures.build_model(tmp_path / "model", 128)
    data = training_fixtures.write_dataset(tmp_path / "varied.jsonl", model, "varied", 24, 128)
    results = {}
    for arm in ("plain", "default"):
        out = tmp_path / f"{arm}.json"
        command = [sys.executable, str(BENCHMARKS / "training_arms.py"), arm, str(model), "128", str(out), str(data)]
        env = {**os.environ, "WORKBENCH_HOME": str(tmp_path / f"home-{arm}"), "BENCH_THREADS": "1"}
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert finished.returncode == 0, finished.stderr[-2000:]
        results[arm] = json.loads(out.read_text())["varied"]
    plain, default = results["plain"], results["default"]
    assert plain["layout"] == "padded" and plain["padding_fraction"] > 0.2, "varied lengths pad a lot"
    assert default["layout"] == "padding-free" and default["padding_fraction"] == 0
    assert default["loss_check"]["arm"] == pytest.approx(default["loss_check"]["padded"], rel=1e-5)
    assert default["train_loss"] == pytest.approx(plain["train_loss"], rel=1e-4), "same labels, same loss"
    assert plain["steps"] == default["steps"] == 3 and plain["useful_tokens_per_s"] > 0
