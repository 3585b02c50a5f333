"""Tests for workbench.export: the downloaded zip loads with PeftModel.from_pretrained in a fresh process."""

import io
import subprocess
import sys
import zipfile

import pytest

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.models import loading
from workbench.results import export
from workbench.runs import directory


def test_adapter_zip_holds_weights_config_and_tokenizer_but_no_pickles(trained_home):
    run = directory.get_run(trained_home.run_id)
    names = {name.split("/", 1)[1] for name in zipfile.ZipFile(io.BytesIO(export.adapter_zip_bytes(run))).namelist()}
    assert {"adapter_model.safetensors", "adapter_config.json", "tokenizer.json", "tokenizer_config.json"} <= names
    assert "chat_template.jinja" in names
    assert "training_args.bin" not in names
    assert export.adapter_zip_name(run) == f"{run.run_id}-adapter.zip"


def test_downloaded_adapter_loads_in_a_fresh_python_process(trained_home, tmp_path):
    run = directory.get_run(trained_home.run_id)
    zipfile.ZipFile(io.BytesIO(export.adapter_zip_bytes(run))).extractall(tmp_path)
    adapter = tmp_path / run.run_id
    script = (
        "import sys; from transformers import AutoModelForCausalLM, AutoTokenizer; from peft import PeftModel\n"
        "base = AutoModelForCausalLM.from_pretrained(sys.argv[1])\n"
        "model = PeftModel.from_pretrained(base, sys.argv[2]); tok = AutoTokenizer.from_pretrained(sys.argv[2])\n"
        "print(type(model).__name__, tok.chat_template is not None)"
    )
    base = loading.demo_model_dir()
    result = subprocess.run(
        [sys.executable, "-c", script, str(base), str(adapter)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("PeftModelForCausalLM") and result.stdout.strip().endswith("True")


def test_a_run_without_adapter_cannot_be_downloaded(home):
    run = directory.create_run(RunConfig())
    with pytest.raises(UserError, match="no adapter to download"):
        export.adapter_zip_bytes(run)
