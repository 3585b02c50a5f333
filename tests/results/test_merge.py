"""Tests for workbench.merge: the merged folder loads without peft, computes what base + adapter computes, and the
detached merge process records where it stands."""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import torch
from conftest import copy_trained_run, dead_pid, wait_for

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.models import loading
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.results import background, merge
from workbench.runs import directory


@pytest.fixture
def copied_run(demo_home, trained_demo):
    """A copy of the trained demo run in this test's own data folder, so merging never touches the shared one."""
    return directory.get_run(copy_trained_run(trained_demo, demo_home).name)


def test_merged_weights_compute_what_the_base_model_with_the_adapter_computes(copied_run):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    folder = merge.merge_into_base(copied_run, progress=lambda stage: None)
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"} <= {
        path.name for path in folder.iterdir()
    }
    assert not (folder / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(folder).eval()
    base = AutoModelForCausalLM.from_pretrained(loading.resolve_model(copied_run.config.model))
    adapted = PeftModel.from_pretrained(base, str(copied_run.adapter_dir)).eval()
    tokens = torch.arange(3, 40).unsqueeze(0)
    with torch.no_grad():
        assert torch.allclose(merged(tokens).logits, adapted(tokens).logits, atol=1e-4)


def test_merged_model_answers_held_out_prompts_in_a_python_without_peft(copied_run):
    folder = merge.merge_into_base(copied_run, progress=lambda stage: None)
    script = (
        "import sys; sys.modules['peft'] = None  # importing peft now fails: the folder must stand alone\n"
        "import json; from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        "from workbench.evaluation.held_out import score_answers\n"
        "from workbench.models.rendering import saved_rendering\n"
        "rows = [json.loads(line) for line in open(sys.argv[2])][:16]\n"
        "model = AutoModelForCausalLM.from_pretrained(sys.argv[1]).eval()\n"
        "tokenizer = AutoTokenizer.from_pretrained(sys.argv[1])\n"
        "rendering = saved_rendering(__import__('pathlib').Path(sys.argv[1]), tokenizer)\n"
        "result = score_answers(model, tokenizer, rendering, rows, 24)\n"
        "print(result.exact_match)\n"
    )
    command = [sys.executable, "-c", script, str(folder), str(DEMO_HELDOUT_FILE)]
    output = subprocess.run(command, capture_output=True, text=True, check=False)
    assert output.returncode == 0, output.stderr[-3000:]
    assert float(output.stdout.strip().splitlines()[-1]) >= 0.8


def test_the_cli_merge_records_success_and_size_in_the_run(copied_run):
    result = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "export", copied_run.run_id, "--merged"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    state = merge.merge_state(copied_run)
    assert state.state == "succeeded"
    assert state.size_bytes == merge.folder_size(merge.merged_dir(copied_run)) > 100_000
    assert "Merged model saved in" in result.stdout


def test_start_merge_works_in_a_detached_process_and_ends_succeeded(copied_run):
    merge.start_merge(copied_run)
    assert merge.merge_state(copied_run).state == "running"
    final = wait_for(
        lambda: (state := merge.merge_state(copied_run)).state != "running" and state,
        timeout=120,
        what="the merge process",
    )
    assert final.state == "succeeded", merge.merge_task(copied_run).log_path.read_text()
    assert (merge.merged_dir(copied_run) / "config.json").is_file()
    assert not list(copied_run.path.glob(".merged.partial"))


def test_a_running_merge_whose_process_died_reads_as_failed(copied_run):
    merge.merge_task(copied_run).state_path.write_text(json.dumps({"state": "running", "pid": dead_pid()}))
    state = merge.merge_state(copied_run)
    assert state.state == "failed"
    assert "stopped before it finished" in state.message


def test_runs_without_an_adapter_say_why_there_is_nothing_to_merge(home):
    waiting = directory.create_run(RunConfig(run_name="waiting"))
    with pytest.raises(UserError, match="no trained adapter yet"):
        merge.start_merge(waiting)
    whole = directory.create_run(RunConfig(run_name="whole", method="full"))
    (whole.adapter_dir).mkdir()
    (whole.adapter_dir / "config.json").write_text("{}")
    with pytest.raises(UserError, match="already is a whole model"):
        merge.merge_into_base(whole)
    assert merge.merge_state(whole).state == "idle"


def test_the_cli_writes_the_adapter_zip_where_asked(copied_run, tmp_path):
    target = tmp_path / "adapter.zip"
    result = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "export", copied_run.run_id, "--out", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert target.stat().st_size > 10_000


def test_merging_into_a_folder_that_holds_other_files_is_refused_and_touches_nothing(copied_run, tmp_path):
    precious = tmp_path / "models"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="already holds other files"):
        merge.merge_into_base(copied_run, precious, progress=lambda stage: None)
    assert (precious / "notes.txt").read_text() == "keep me"
    with pytest.raises(UserError, match="already holds other files"):
        merge.merge_into_base(copied_run, copied_run.adapter_dir, progress=lambda stage: None)
    assert copied_run.has_output


def test_an_earlier_merge_output_is_replaced_whole(copied_run, tmp_path):
    target = tmp_path / "exports" / "out"
    merge.merge_into_base(copied_run, target, progress=lambda stage: None)
    (target / "stale.txt").write_text("from before")
    merge.merge_into_base(copied_run, target, progress=lambda stage: None)
    assert not (target / "stale.txt").exists()
    assert (target / "config.json").is_file()
    assert [path.name for path in target.parent.iterdir()] == ["out"], "no staging folder is left behind"


def test_a_second_merge_of_the_same_run_leaves_the_running_one_alone(copied_run):
    with open(merge.merge_task(copied_run).lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a merge process in progress holds it
        assert merge.run_merge(copied_run) == 0
    assert merge.merge_state(copied_run).state == "idle"
    assert not merge.merged_dir(copied_run).exists()


def test_a_running_merge_whose_pid_now_belongs_to_another_process_reads_as_failed(copied_run):
    state = {"state": "running", "pid": os.getpid(), "proc_start": "1", "updated_at": time.time()}
    merge.merge_task(copied_run).state_path.write_text(json.dumps(state))
    assert merge.merge_state(copied_run).state == "failed"


def test_a_merge_that_never_reported_its_process_fails_after_the_start_timeout(copied_run):
    state = {"state": "running", "updated_at": time.time()}
    merge.merge_task(copied_run).state_path.write_text(json.dumps(state))
    assert merge.merge_state(copied_run).state == "running"
    state["updated_at"] -= background.START_TIMEOUT_S + 1
    merge.merge_task(copied_run).state_path.write_text(json.dumps(state))
    assert "did not start" in merge.merge_state(copied_run).message


def test_a_merge_is_outdated_once_the_adapter_changes(copied_run):
    assert merge.run_merge(copied_run) == 0
    assert merge.merge_state(copied_run).state == "succeeded"
    weights = copied_run.adapter_dir / "adapter_model.safetensors"
    os.utime(weights, ns=(time.time_ns(), time.time_ns() + 10**9))  # as a resumed run's new adapter would
    assert merge.merge_state(copied_run).state == "outdated"


def test_the_detached_merge_reports_why_it_failed(copied_run):
    config = RunConfig.load(copied_run.path / "config.yaml")
    config.model = str(copied_run.path / "no-such-model")
    config.save(copied_run.path / "config.yaml")
    merge.start_merge(directory.get_run(copied_run.run_id))
    final = wait_for(
        lambda: (state := merge.merge_state(copied_run)).state != "running" and state, timeout=120, what="the merge"
    )
    assert final.state == "failed"
    assert "no model folder" in final.message


def test_an_already_quantised_base_model_is_refused_in_plain_words(copied_run, demo_model_dir, tmp_path):
    quantised = tmp_path / "base-bnb-4bit"
    shutil.copytree(demo_model_dir, quantised)
    config = json.loads((quantised / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "bitsandbytes", "load_in_4bit": True}
    (quantised / "config.json").write_text(json.dumps(config))
    run_config = RunConfig.load(copied_run.path / "config.yaml")
    run_config.model = str(quantised)
    run_config.save(copied_run.path / "config.yaml")
    with pytest.raises(UserError, match="stored already quantised"):
        merge.merge_into_base(directory.get_run(copied_run.run_id), progress=lambda stage: None)
