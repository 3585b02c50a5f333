"""Comparison: outcomes read from run directories, and only the settings that set runs apart."""

import math

from workbench.config import RunConfig
from workbench.results import comparison
from workbench.runs import directory


def make_run(name: str, losses: list[float], **settings) -> directory.Run:
    run = directory.create_run(RunConfig(run_name=name, **settings))
    for step, loss in enumerate(losses, start=1):
        directory.append_metrics(run.path, {"step": step, "loss": loss})
    directory.append_metrics(run.path, {"step": len(losses), "eval_loss": min(losses) + 0.1})
    directory.update_status(run.path, state="succeeded", step=len(losses), max_steps=len(losses))
    return run


def test_outcome_reads_the_last_loss_the_best_held_out_loss_and_the_scores(home):
    run = make_run("scored", [3.0, 2.0, 1.0])
    directory.append_metrics(run.path, {"step": 1, "eval_loss": math.nan})  # a NaN evaluation is never the best one
    scored = '{"base": {"exact_match": 0.0}, "tuned": {"exact_match": 0.875, "f1": 0.9, "rouge_l": 0.91}}'
    (run.path / "eval.json").write_text(scored)
    outcome = comparison.outcome(run)
    assert (outcome.state, outcome.steps, outcome.final_loss) == ("succeeded", 3, 1.0)
    assert math.isclose(outcome.best_eval_loss, 1.1)
    [row] = comparison.outcome_rows([outcome])
    assert row["exact match, untrained"] == "0%"
    assert row["exact match, trained"] == "88%"
    assert (row["token F1, trained"], row["ROUGE-L, trained"]) == ("90%", "91%")
    assert row["diagnostics"] == "diverged (NaN)"


def test_a_run_without_metrics_has_blanks_not_errors(home):
    run = directory.create_run(RunConfig(run_name="waiting"))
    [row] = comparison.outcome_rows([comparison.outcome(run)])
    assert (row["state"], row["final training loss"], row["exact match, trained"]) == ("queued", None, "")


def test_diagnostics_codes_reach_the_table(home):
    rising = make_run("rising", [1.0 + 0.2 * step for step in range(20)])
    [row] = comparison.outcome_rows([comparison.outcome(rising)])
    assert row["diagnostics"] == "loss went up"


def test_differing_fields_are_the_ones_that_differ_in_form_order():
    configs = [RunConfig(learning_rate=1e-4, lora_r=8), RunConfig(learning_rate=2e-4, lora_r=8, packing=True)]
    assert comparison.differing_fields(configs) == ["learning_rate", "packing"]
    assert comparison.differing_fields([RunConfig(), RunConfig()]) == []


def test_settings_rows_label_each_setting_and_write_values_as_text(home):
    first = make_run("a", [1.0], learning_rate=1e-4, packing=True)
    second = make_run("b", [1.0], learning_rate=2e-4, packing=False)
    rows = comparison.settings_rows([first, second])
    by_setting = {row["setting"]: row for row in rows}
    assert set(by_setting) == {"Learning rate", "Packing"}, "the run name differs too but is not a setting to compare"
    assert by_setting["Learning rate"][first.run_id] == "0.0001"
    assert by_setting["Packing"][second.run_id] == "off"
    assert len(comparison.settings_rows([first, second], only_differing=False)) == len(RunConfig.__dataclass_fields__)
