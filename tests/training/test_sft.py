"""Tests for workbench.training.sft: a RunConfig becomes the SFTConfig, LoRA config and layer freezing TRL needs."""

from workbench import schedule
from workbench.config import RunConfig
from workbench.planning import presets
from workbench.training import sft


def test_the_sft_config_carries_the_run_settings(tmp_path):
    config = presets.demo_config(eval_steps=5, gradient_checkpointing=True)
    plan = schedule.plan(config, 256, separate_eval=True)
    args = sft.sft_config(config, tmp_path, plan, has_eval=True, cuda=False, layout="padded")
    assert (args.max_length, args.learning_rate) == (64, 5e-3)
    assert not args.assistant_only_loss and not args.completion_only_loss, "the labels come with the rows (rendering)"
    assert args.eval_strategy == "steps" and args.eval_steps == 5 and args.save_steps == 40  # 160 steps / 4
    assert args.use_cpu and not args.bf16 and not args.fp16, "a CPU trains in float32"
    assert args.report_to == [] or args.report_to == "none"
    assert args.output_dir == str(tmp_path / "checkpoints") and args.save_only_model is False
    assert args.logging_nan_inf_filter is False, "a NaN loss must reach metrics.jsonl for diagnostics to see it"


def test_lora_targets_and_no_adapter_for_full_fine_tuning():
    assert sft.lora_config(RunConfig(target_modules="q_proj, v_proj")).target_modules == {"q_proj", "v_proj"}
    assert sft.lora_config(RunConfig(method="qlora", lora_r=4)).r == 4
    assert sft.lora_config(RunConfig(method="full")) is None


def test_freeze_trains_only_the_last_layers_and_the_final_norm(demo_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(demo_model_dir)
    trainable = sft.freeze_all_but_last_layers(model, 1)
    names = {name for name, parameter in model.named_parameters() if parameter.requires_grad}
    assert names and all(name.startswith(("model.layers.1.", "model.norm")) for name in names)
    assert trainable == sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
