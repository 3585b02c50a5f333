"""Tests for workbench.models: finding a model, explaining what cannot be loaded, the device and the 4-bit config."""

import json
import subprocess
import sys

import pytest

from workbench.errors import UserError
from workbench.models import device, loading
from workbench.planning import model_facts as facts


def sentence(model: str) -> str:
    with pytest.raises(UserError) as caught:
        loading.resolve_model(model)
    return str(caught.value).replace(model, "PATH")


def test_a_missing_path_a_folder_and_a_file_read_alike_so_the_field_reveals_no_folders(tmp_path):
    # Regression: "/root has no config.json" differed from "There is no model folder", telling folders apart.
    (tmp_path / "notes.txt").write_text("x")
    told = {sentence(str(tmp_path)), sentence("/srv/none"), sentence(str(tmp_path / "notes.txt"))}
    wanted = "There is no model folder with a config.json at PATH; give the path of a Hugging Face model folder"
    assert told == {f"{wanted} on the server."}
    assert loading.resolve_model("Qwen/Qwen2.5-0.5B-Instruct") == "Qwen/Qwen2.5-0.5B-Instruct"


def test_a_broken_config_json_is_called_broken_not_missing(tmp_path):
    # Regression: a folder with a broken config.json was "not a model folder ... cannot be downloaded here".
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="could not be read \\(a broken config.json") as caught:
        loading.load_tokenizer(loading.resolve_model(str(tmp_path)))
    assert "cannot be downloaded" not in str(caught.value)


def test_the_demo_resolves_to_its_built_folder(demo_home):
    assert loading.resolve_model("demo") == str(demo_home / "models" / "demo")


def test_an_unreachable_hub_id_offline_says_to_copy_the_model(home):
    with pytest.raises(UserError, match="cannot be downloaded here"):
        loading.load_tokenizer("nobody/no-such-model")


def test_on_a_cpu_lora_is_preselected_and_the_reason_is_given():
    found = device.device_info()
    assert not found.cuda and found.name.startswith("CPU (")
    method, reason = device.default_method(found)
    assert method == "lora" and "No CUDA GPU was found" in reason
    gpu = device.Device(cuda=True, name="NVIDIA H100 80GB HBM3", total_gb=80, free_gb=79)
    assert device.default_method(gpu)[0] == "qlora"


def test_qlora_loads_nf4_with_double_quantisation_and_other_methods_do_not_quantise():
    pytest.importorskip("bitsandbytes")
    config = loading.quantization_config("qlora", cuda=False)
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    assert loading.quantization_config("lora", cuda=False) is None


def test_demo_model_loads_4_bit_on_the_cpu(demo_model_dir):
    pytest.importorskip("bitsandbytes")
    model = loading.load_model(str(demo_model_dir), "qlora", cuda=False)
    assert loading.describe_weights(model).startswith("4-bit NF4")


def remote_code_folder(folder, marker):
    """A model folder whose config names its own code, which would write ``marker`` if it ever ran."""
    folder.mkdir()
    code = f"open({str(marker)!r}, 'w').write('ran')\nfrom transformers import LlamaConfig as MarkerConfig\n"
    (folder / "marker_config.py").write_text(code)
    config = {"model_type": "llama", "auto_map": {"AutoConfig": "marker_config.MarkerConfig"}, "vocab_size": 10}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_a_model_folder_with_its_own_code_is_refused_and_its_code_never_runs(tmp_path):
    marker = tmp_path / "ran.txt"
    folder = remote_code_folder(tmp_path / "custom", marker)
    with pytest.raises(UserError, match="needs its own Python code"):
        loading.resolve_model(str(folder))
    with pytest.raises(UserError):
        facts.model_facts(str(folder))
    from transformers import AutoConfig

    # The flag every loader passes: even past the folder check, transformers takes its own class, not the folder's.
    assert type(AutoConfig.from_pretrained(str(folder), **loading.NO_REMOTE_CODE)).__name__ == "LlamaConfig"
    assert not marker.exists()


def test_the_cli_refuses_remote_code_with_a_sentence_even_when_stdin_says_yes(tmp_path):
    # Regression: `echo y | workbench data validate f.jsonl --model FOLDER` ran FOLDER's code.
    marker = tmp_path / "ran.txt"
    folder = remote_code_folder(tmp_path / "custom", marker)
    data = tmp_path / "f.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n')
    command = [sys.executable, "-m", "workbench.cli", "data", "validate", str(data), "--model", str(folder), "--json"]
    result = subprocess.run(command, input="y\ny\n", capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(result.stdout)
    assert [problem["code"] for problem in report["problems"]] == ["model_unavailable"]
    assert "needs its own Python code" in report["problems"][0]["message"] and not marker.exists()
