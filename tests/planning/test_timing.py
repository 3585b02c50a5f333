"""Tests for workbench.planning.timing and the step arithmetic it shares with the trainer: steps and the GPU table."""

import pytest

from workbench import schedule
from workbench.planning import timing


def test_the_trainer_arithmetic_of_optimizer_steps():
    assert schedule.optimizer_steps(1000, 8, 2, 3) == 189  # 3 x ceil(ceil(1000 / 8) / 2)
    assert schedule.optimizer_steps(1000, 8, 2, 3, max_steps=50) == 50
    assert schedule.optimizer_steps(10, 8, 1, 0.5) == 1
    assert schedule.optimizer_steps(0, 8, 1, 3) == 3  # the Trainer always takes at least one step per epoch


def test_gpu_table_matches_specific_names_first():
    assert timing.gpu_spec("NVIDIA H100 PCIe").peak_tflops == 756
    assert timing.gpu_spec("NVIDIA H100 80GB HBM3").peak_tflops == pytest.approx(989.4)
    assert timing.gpu_spec("NVIDIA A10G").peak_tflops < timing.gpu_spec("NVIDIA A10").peak_tflops
    assert timing.gpu_spec("Mystery Accelerator") is timing.UNKNOWN_GPU


def test_padding_free_and_packed_batches_process_only_real_tokens():
    from model_shapes import config

    lengths = [10, 100, 20, 90] * 4
    padded = timing.workload(config(max_length=512, padding_free=False, per_device_train_batch_size=4), lengths)
    flat = timing.workload(config(max_length=512, per_device_train_batch_size=4), lengths)
    assert flat.processed_tokens == flat.tokens_per_epoch * flat.steps / flat.plan.steps_per_epoch
    assert padded.processed_tokens == 4 * 100 * 4 * padded.steps / padded.plan.steps_per_epoch  # 4 rows of 100
    assert flat.processed_tokens < padded.processed_tokens
