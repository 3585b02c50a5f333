"""Tests for workbench.config: validation, YAML round trips and user-facing errors."""

import pytest

from workbench.config import RunConfig, field_help, form_fields
from workbench.errors import UserError


def test_defaults_are_valid():
    assert RunConfig().validate() == []


def test_out_of_range_values_name_the_field():
    problems = RunConfig(learning_rate=5.0, per_device_train_batch_size=0, method="magic").validate()
    assert any(problem.startswith("Learning rate (learning_rate):") for problem in problems)
    assert any(problem.startswith("Batch size (per_device_train_batch_size):") for problem in problems)
    assert any("'magic' is not one of qlora, lora, full" in problem for problem in problems)


def test_check_raises_one_user_error_with_every_problem():
    with pytest.raises(UserError) as caught:
        RunConfig(model=" ", lora_r=0).check()
    assert "Model:" in str(caught.value) and "LoRA rank (lora_r):" in str(caught.value)


def test_yaml_round_trip_keeps_every_value(tmp_path):
    config = RunConfig(
        run_name="pilot", method="qlora", learning_rate=1e-4, assistant_only_loss=False, max_length=2048
    )
    config.save(tmp_path / "run.yaml")
    assert RunConfig.load(tmp_path / "run.yaml") == config


def test_yaml_values_are_coerced_to_field_types():
    config = RunConfig.from_yaml("num_train_epochs: 2\nlearning_rate: '3e-4'\nassistant_only_loss: 'no'\n")
    assert config.num_train_epochs == 2.0 and isinstance(config.num_train_epochs, float)
    assert config.learning_rate == pytest.approx(3e-4)
    assert config.assistant_only_loss is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("epochs: 3\n", "Unknown setting(s) epochs"),
        ("lora_r: many\n", "LoRA rank (lora_r): 'many' is not a valid int"),
        ("lora_r: 2.5\n", "LoRA rank (lora_r): '2.5' is not a valid int"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("model: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_yaml_gives_a_plain_sentence(text, expected):
    with pytest.raises(UserError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        RunConfig.from_yaml(text)


def test_missing_config_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="No config file"):
        RunConfig.load(tmp_path / "absent.yaml")


def test_form_metadata_is_available_for_every_numeric_field():
    assert "rank" in field_help("lora_r")
    [rate] = [spec for spec in form_fields() if spec.name == "learning_rate"]
    assert (rate.low, rate.high, rate.kind) == (1e-7, 1.0, "float")
