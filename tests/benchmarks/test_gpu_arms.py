"""Tests for benchmarks/gpu_arms.py that need no GPU: its FLOP count against the notes' worked example
(../shared/notes/performance.md section 2.4: an 8B LoRA at sequence 2048 reaches 45% MFU at about 14.1k tokens/s)."""

import sys
from pathlib import Path

import pytest


sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


def test_lora_mfu_of_the_8b_shape_matches_the_published_arithmetic():
    import gpu_arms

    assert gpu_arms.mfu(gpu_arms.SHAPES["8b"], 14_100, [2048] * 8) == pytest.approx(0.45, abs=0.01)
    shorter = gpu_arms.mfu(gpu_arms.SHAPES["8b"], 14_100, [256] * 64)
    assert shorter < 0.45, "shorter documents attend over less, so the same tokens/s is fewer FLOPs"
