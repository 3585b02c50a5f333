"""Tests for benchmarks/bench_training_gpu.py that need no GPU: the arms it runs exist and fit its time box."""

import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


def test_the_gpu_arms_fit_the_time_box():
    import bench_training_gpu as bench
    import gpu_arms

    assert set(bench.ARMS_1B) <= set(gpu_arms.ARMS) and set(bench.ARMS_8B) <= set(gpu_arms.ARMS)
    assert len(bench.ARMS_8B) <= 5, "8B arms take about a minute each; the whole script must end inside 8 minutes"
