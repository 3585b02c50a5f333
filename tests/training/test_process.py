"""Tests for workbench.training: the demo learns its task, QLoRA runs through bitsandbytes, and failures read well."""

import json

import pytest
from conftest import run_training
from served import loaded, reply_text

from workbench.models.demo_task import DEMO_TRAIN_FILE
from workbench.planning import presets
from workbench.results import answer_tables
from workbench.runs import directory, held_out_scores


def test_demo_run_learns_the_held_out_task(trained_home, capsys):
    run = directory.get_run(trained_home.run_id)
    status = directory.read_status(run.path)
    assert status.state == "succeeded", directory.tail_log(run.path)
    scores = held_out_scores.read_scores(run.path)
    base, tuned = scores.base.exact_match, scores.tuned.exact_match
    seconds = status.finished_at - status.started_at
    with capsys.disabled():  # shown in every test log, not only when the test fails
        n = scores.tuned.n
        print(f"\nDemo held-out exact match: base {base:.1%}, tuned {tuned:.1%} (n={n}), {seconds:.0f} s")
        stops = {name: getattr(scores, name).checked - getattr(scores, name).ran_on for name in ("base", "tuned")}
        print(f"Answers ended by the model itself: base {stops['base']}/{n}, tuned {stops['tuned']}/{n}")
        print(f"Held-out, untrained -> trained: {answer_tables.metrics_sentence(scores)}")
    assert base <= 0.10
    assert tuned >= 0.80
    assert scores.tuned.checked == n and scores.tuned.ran_on <= n // 10, "the tuned model ends its answers"
    for metric in ("f1", "rouge_l", "bleu"):
        before, after = getattr(scores.base, metric), getattr(scores.tuned, metric)
        assert 0 <= before < after <= 1, f"{metric}: base {before}, tuned {after}"
    assert seconds < 180
    losses = [record["loss"] for record in directory.read_metrics(run.path) if "loss" in record]
    assert losses[-1] < losses[0]
    held_out = [record for record in directory.read_metrics(run.path) if "eval_loss" in record]
    assert held_out[0]["step"] == 0 and held_out[-1]["eval_loss"] < held_out[0]["eval_loss"], "untrained baseline"
    assert status.memory_place == "RAM" and 0.2 < status.memory_gb < 8, "the live readout of the process's memory"


def test_qlora_trains_through_bitsandbytes_4bit(demo_home):
    pytest.importorskip("bitsandbytes")
    run = run_training(presets.demo_config(method="qlora", dataset=str(DEMO_TRAIN_FILE), num_train_epochs=0.3))
    log = directory.tail_log(run.path)
    assert directory.read_status(run.path).state == "succeeded", log
    assert "for qlora: 4-bit NF4" in log
    adapter_config = json.loads((run.adapter_dir / "adapter_config.json").read_text())
    assert adapter_config["peft_type"] == "LORA"


@pytest.mark.parametrize("method", ["full", "freeze"])
def test_full_and_freeze_save_a_whole_model_that_the_playground_loads(demo_home, method):
    run = run_training(presets.demo_config(method=method, dataset=str(DEMO_TRAIN_FILE), num_train_epochs=0.2))
    assert directory.read_status(run.path).state == "succeeded", directory.tail_log(run.path)
    assert (run.adapter_dir / "model.safetensors").is_file() and run.has_output
    with loaded(run.run_id) as tuned:
        assert not hasattr(tuned.model, "peft_config")
        assert reply_text(tuned, [{"role": "user", "content": "Which city is mentioned? Hi"}], 4)


def test_bad_data_fails_with_a_plain_sentence_naming_the_line(demo_home, tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text(DEMO_TRAIN_FILE.read_text().splitlines()[0] + "\n{not json\n")
    run = run_training(presets.demo_config(dataset=str(broken)))
    status = directory.read_status(run.path)
    assert status.state == "failed"
    assert "Line 2" in status.message and "Traceback" not in status.message


def test_unloadable_model_fails_with_a_plain_sentence(demo_home, tmp_path):
    (tmp_path / "empty-model").mkdir()
    (tmp_path / "empty-model" / "config.json").write_text("{}")
    run = run_training(presets.demo_config(model=str(tmp_path / "empty-model"), dataset=str(DEMO_TRAIN_FILE)))
    status = directory.read_status(run.path)
    assert status.state == "failed"
    assert "could not be loaded" in status.message or "stopped with an error" in status.message


def test_a_second_run_on_the_same_model_and_data_reuses_the_untrained_models_scores(demo_home):
    config = presets.demo_config(max_steps=2, run_name="first")
    first = run_training(config)
    second = run_training(presets.demo_config(max_steps=3, run_name="second"))
    for run in (first, second):
        assert directory.read_status(run.path).state == "succeeded", directory.tail_log(run.path)
    assert "kept from an earlier run" not in directory.tail_log(first.path)
    assert "kept from an earlier run on the same model and data" in directory.tail_log(second.path)
    assert held_out_scores.read_scores(second.path).base == held_out_scores.read_scores(first.path).base
    phases = json.loads((second.path / directory.RECORD_FILE).read_text())["phases"]
    assert phases["scoring the untrained model"] < 1.0
