"""Tests for workbench.models: finding a model, explaining what cannot be loaded, the device and the 4-bit config."""

import pytest

from workbench.errors import UserError
from workbench.models import device, loading


def test_a_folder_without_config_and_a_missing_path_are_explained(tmp_path):
    with pytest.raises(UserError, match="has no config.json"):
        loading.resolve_model(str(tmp_path))
    with pytest.raises(UserError, match="There is no model folder at /srv/none"):
        loading.resolve_model("/srv/none")
    assert loading.resolve_model("Qwen/Qwen2.5-0.5B-Instruct") == "Qwen/Qwen2.5-0.5B-Instruct"


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
