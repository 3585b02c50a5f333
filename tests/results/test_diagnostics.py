"""Diagnostics read logged curves: each problem is found on a curve that has it and not on a healthy one."""

import math

from conftest import run_training

from workbench.planning import presets
from workbench.results import diagnostics
from workbench.runs import directory
from workbench.runs.held_out_scores import Score, Scores


def curve(losses, eval_losses=None, grad_norms=None):
    """Metrics records as the training callback writes them: one per step, eval records at their steps."""
    records = []
    for index, loss in enumerate(losses):
        record = {"step": index + 1, "epoch": (index + 1) / 10, "loss": loss}
        if grad_norms is not None:
            record["grad_norm"] = grad_norms[index]
        records.append(record)
    for step, value in (eval_losses or {}).items():
        records.append({"step": step, "eval_loss": value})
    return sorted(records, key=lambda record: record["step"])


def codes(metrics):
    return [finding.code for finding in diagnostics.diagnose(metrics)]


def falling(n=40, start=3.0, end=0.5):
    return [start + (end - start) * index / (n - 1) for index in range(n)]


def test_a_healthy_falling_curve_has_no_findings():
    assert codes(curve(falling(), {10: 2.5, 20: 1.8, 30: 1.2, 40: 0.9}, [1.0] * 40)) == []


def test_a_nan_loss_is_an_error_naming_the_step():
    losses = falling()
    losses[17] = math.nan
    findings = diagnostics.diagnose(curve(losses))
    assert findings[0].code == "diverged"
    assert findings[0].severity == "error"
    assert findings[0].step == 18
    assert "step 18" in findings[0].message


def test_one_infinite_gradient_norm_is_an_fp16_skipped_step_but_lasting_ones_are_divergence():
    norms = [1.0] * 40
    norms[5] = math.inf  # the fp16 loss scaler overflowed once and skipped the step
    assert "diverged" not in codes(curve(falling(), grad_norms=norms))
    norms[-3:] = [math.nan, math.inf, math.nan]
    findings = diagnostics.diagnose(curve(falling(), grad_norms=norms))
    assert (findings[0].code, findings[0].step) == ("diverged", 38)


def test_a_rising_loss_blames_the_learning_rate():
    findings = diagnostics.diagnose(curve(falling(start=1.0, end=4.0)))
    assert [finding.code for finding in findings] == ["loss_rising"]
    assert "learning rate" in findings[0].fix


def test_a_flat_loss_is_a_warning_and_a_small_fall_is_not():
    assert codes(curve([2.0 + 0.01 * (index % 3) for index in range(40)])) == ["loss_flat"]
    assert codes(curve(falling(start=2.0, end=1.7))) == []


def test_too_few_points_say_nothing():
    assert codes(curve([1.0, 2.0, 3.0, 4.0])) == []


def test_held_out_loss_rising_while_training_falls_is_memorising():
    findings = diagnostics.diagnose(curve(falling(), {10: 2.0, 20: 1.5, 30: 1.9, 40: 2.4}))
    assert [finding.code for finding in findings] == ["memorising"]
    assert findings[0].step == 20
    assert "about 20" in findings[0].fix


def test_held_out_loss_that_rises_with_the_training_loss_is_not_memorising():
    losses = falling(n=20) + falling(n=20, start=0.5, end=0.55)
    assert "memorising" not in codes(curve(losses, {10: 2.0, 20: 1.5, 30: 1.9, 40: 2.4}))


def test_gradient_spikes_are_counted_and_the_worst_named():
    norms = [0.8] * 40
    norms[12], norms[30] = 25.0, 60.0
    findings = diagnostics.diagnose(curve(falling(), grad_norms=norms))
    assert [finding.code for finding in findings] == ["gradient_spikes"]
    assert findings[0].step == 31
    assert "2 steps" in findings[0].message


def test_errors_come_before_warnings():
    losses = falling(start=1.0, end=4.0)
    norms = [0.8] * 40
    norms[20] = 50.0
    assert codes(curve(losses, grad_norms=norms)) == ["loss_rising", "gradient_spikes"]


def test_the_trained_demo_run_is_healthy(trained_home):
    metrics = directory.read_metrics(directory.get_run(trained_home.run_id).path)
    assert len(metrics) > diagnostics.MIN_POINTS
    assert diagnostics.diagnose(metrics) == [], "large early gradient norms while the loss is high are normal"


def test_a_loss_that_jumps_far_above_its_start_and_comes_back_is_flagged():
    # measured on the demo: full fine-tuning at learning rate 1.0 went 9.99 -> 28.9 and ended at 9.56
    losses = [9.99, 9.78, 16.0, 28.9, 29.0, 13.4, 17.9, 16.2, 26.2, 20.3, 16.2, 19.1, 20.5, 13.8, 10.8, 9.56]
    findings = diagnostics.diagnose(curve(losses))
    assert [finding.code for finding in findings] == ["loss_jump"]
    assert findings[0].step == 5
    assert codes(curve([3.0, 3.2, *falling(n=20, start=3.1, end=1.0)])) == [], "a small early bump is normal"


def test_a_real_run_at_far_too_high_a_learning_rate_is_diagnosed(demo_home):
    config = presets.demo_config(method="full", learning_rate=1.0, num_train_epochs=1, validation_fraction=0.0)
    run = run_training(config)
    assert directory.read_status(run.path).state == "succeeded", directory.tail_log(run.path)
    findings = diagnostics.diagnose(directory.read_metrics(run.path))
    assert {finding.code for finding in findings} & {"loss_jump", "loss_rising", "diverged"}, findings


def test_a_trained_model_that_does_not_stop_by_itself_is_flagged():
    def scores(checked, ran_on):
        return Scores(Score(0.0, checked, checked, checked), Score(0.5, checked, checked, ran_on))

    [finding] = diagnostics.diagnose_answers(scores(10, 5))
    assert finding.code == "runs_on"
    assert "5 of 10" in finding.message
    assert diagnostics.diagnose_answers(scores(10, 1)) == [], "one answer cut off in ten is not a pattern"
    assert diagnostics.diagnose_answers(scores(3, 3)) == [], "too few answers to judge"
    assert diagnostics.diagnose_answers(Scores()) == [], "a run not scored yet"


def test_gradient_norms_that_shrink_as_the_loss_converges_are_not_spikes():
    norms = [8.0] * 10 + [0.02] * 30  # large while the loss is high, tiny once converged: a normal run
    assert "gradient_spikes" not in codes(curve(falling(), grad_norms=norms))
