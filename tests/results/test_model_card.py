"""The README.md in every download: it names the base model, the data and the scores, and its code really runs."""

import io
import re
import subprocess
import sys
import zipfile

import pytest
from conftest import copy_trained_run

from workbench.config import RunConfig
from workbench.models import loading
from workbench.results import export, merge, model_card
from workbench.runs import directory, held_out_scores, record


@pytest.fixture
def copied_run(demo_home, trained_demo):
    return directory.get_run(copy_trained_run(trained_demo, demo_home).name)


def python_block(card: str) -> str:
    [code] = re.findall(r"```python\n(.*?)```", card, flags=re.DOTALL)
    return code


def run_in(folder, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, check=False)


def test_the_card_names_base_model_data_settings_and_scores(copied_run):
    card = model_card.model_card(copied_run)
    scores = held_out_scores.read_scores(copied_run.path)
    assert f"`{loading.demo_model_dir()}`" in card, "the demo base is named by its folder, which loads elsewhere"
    assert "LoRA adapter" in card
    assert record.read_record(copied_run.path)["dataset"]["sha256"] in card
    before, after = scores.base.exact_match, scores.tuned.exact_match
    assert f"Exact match {before:.0%} -> {after:.0%}, Token F1 {scores.base.f1:.0%} -> {scores.tuned.f1:.0%}" in card
    assert f"| Learning rate | {copied_run.config.learning_rate} |" in card
    assert f"--max-lora-rank {max(16, copied_run.config.lora_r)} " in card, "vLLM refuses ranks above the limit"
    assert f"--lora-modules {copied_run.run_id}=." in card


def test_the_card_quotes_paths_and_describes_full_and_freeze_runs(copied_run):
    config = RunConfig.load(copied_run.path / "config.yaml")
    config.model, config.lora_r = "/models/my base's model", 20
    config.save(copied_run.path / "config.yaml")
    card = model_card.model_card(directory.get_run(copied_run.run_id))
    assert 'from_pretrained("/models/my base\'s model")' in card
    assert "vllm serve '/models/my base'\"'\"'s model' --enable-lora --max-lora-rank 32 " in card
    whole = directory.create_run(RunConfig(method="freeze", freeze_trainable_layers=2))
    whole.adapter_dir.mkdir()
    (whole.adapter_dir / "config.json").write_text("{}")
    card = model_card.model_card(whole)
    assert "model fine-tuned in its last 2 layers" in card
    assert "vllm serve .\n" in card and "PeftModel" not in card


def test_the_adapter_zip_carries_the_card_and_its_code_runs_in_the_unzipped_folder(copied_run, tmp_path):
    zipfile.ZipFile(io.BytesIO(export.adapter_zip_bytes(copied_run))).extractall(tmp_path)
    folder = tmp_path / copied_run.run_id
    card = (folder / "README.md").read_text()
    question = "Which city is mentioned? Lena has lived in Quito for ten years."  # a held-out demo question
    result = run_in(folder, python_block(card).replace("Hello!", question))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "Quito"
    names = zipfile.ZipFile(io.BytesIO(export.adapter_zip_bytes(copied_run))).namelist()
    assert names.count(f"{copied_run.run_id}/README.md") == 1, "the card replaces peft's template README"


def test_the_merged_folder_has_its_own_card_whose_code_needs_no_peft(copied_run):
    folder = merge.merge_into_base(copied_run, progress=lambda stage: None)
    card = (folder / "README.md").read_text()
    assert "merged model" in card and "vllm serve .\n" in card and "--enable-lora" not in card
    result = run_in(folder, "import sys; sys.modules['peft'] = None\n" + python_block(card))
    assert result.returncode == 0, result.stderr[-3000:]
