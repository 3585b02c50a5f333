"""Tests for workbench.training.phases: where a run's time went, with the trainer's evaluations split out."""

import time

import pytest

from workbench.training.phases import PhaseClock


def test_phases_add_up_and_evaluation_is_taken_out_of_training():
    clock = PhaseClock()
    with clock.timed("loading the model"):
        time.sleep(0.02)
    clock.add("training", 10.0)
    clock.add("training", 2.0)
    clock.split_evaluation([{"loss": 1.0}, {"eval_runtime": 1.5}, {"eval_runtime": 0.5}])
    assert clock.seconds["training"] == pytest.approx(10.0)
    assert clock.seconds["evaluation"] == pytest.approx(2.0)
    assert clock.seconds["loading the model"] >= 0.02
    assert set(clock.rounded()) == {"loading the model", "training", "evaluation"}


def test_evaluation_never_takes_more_than_the_training_phase_had():
    clock = PhaseClock()
    clock.add("training", 1.0)
    clock.split_evaluation([{"eval_runtime": 5.0}])
    assert clock.seconds == {"training": 0.0, "evaluation": 1.0}
