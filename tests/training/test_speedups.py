"""Tests for workbench.training.speedups: the speed recipe and its reasons, the trainer settings it gives, and that
padding-free batches compute the same loss as padded ones on the demo model (so the faster default is exact)."""

import dataclasses

import pytest

from workbench import schedule
from workbench.config import RunConfig
from workbench.planning import presets
from workbench.training import sft, speedups


def recipe(config: RunConfig, cuda: bool = False) -> dict[str, speedups.Speedup]:
    return {choice.name: choice for choice in speedups.speedups(config, cuda)}


def test_the_default_recipe_on_a_cpu_is_padding_free_without_checkpointing():
    chosen = recipe(RunConfig())
    assert chosen["Padding-free batching"].used and chosen["Padding-free batching"].setting == "padding_free"
    assert not chosen["Gradient checkpointing"].used
    assert not chosen["Liger kernels"].used and "NVIDIA GPU" in chosen["Liger kernels"].reason
    assert not chosen["FlashAttention 2"].used


def test_each_choice_can_be_turned_off_and_says_so():
    chosen = recipe(RunConfig(padding_free=False, gradient_checkpointing=True, liger_kernels=False), cuda=True)
    assert not chosen["Padding-free batching"].used and "turned off" in chosen["Padding-free batching"].reason
    assert chosen["Gradient checkpointing"].used
    assert chosen["Liger kernels"].reason == "turned off in the settings"
    assert recipe(RunConfig(packing=True))["Packing"].used


def test_liger_kernels_are_used_on_a_gpu_only_where_installed(monkeypatch):
    # The CUDA device is a flag here: this machine has none, and the choice only reads the flag and the package.
    monkeypatch.setattr(speedups, "liger_installed", lambda: False)
    assert "pip install liger-kernel" in recipe(RunConfig(), cuda=True)["Liger kernels"].reason
    monkeypatch.setattr(speedups, "liger_installed", lambda: True)
    assert recipe(RunConfig(), cuda=True)["Liger kernels"].used
    assert not recipe(RunConfig(), cuda=False)["Liger kernels"].used


@pytest.mark.parametrize(
    ("values", "padding_free", "max_length"),
    [({}, True, None), ({"padding_free": False}, False, 64), ({"packing": True}, True, 64)],
    ids=["padding-free", "padded", "packed"],
)
def test_the_trainer_settings_follow_the_recipe(tmp_path, values, padding_free, max_length):
    config = dataclasses.replace(presets.demo_config(), **values)
    plan = schedule.plan(config, 256, separate_eval=True)
    args = sft.sft_config(config, tmp_path, plan, has_eval=True, cuda=False)
    assert (args.padding_free, args.max_length, args.packing) == (padding_free, max_length, config.packing)
    assert args.use_liger_kernel is False, "no Liger kernels on a CPU"


def test_padding_free_batches_compute_the_padded_loss_on_the_demo_model(demo_model_dir):
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from workbench.data import sources
    from workbench.models import loading
    from workbench.models.rendering import encode, rendering_for

    tokenizer = loading.load_tokenizer(str(demo_model_dir))
    rendering = rendering_for(tokenizer, "drop")
    rows = [encode(rendering, tokenizer, row, True) for row in sources.load_rows("demo")[:6]]
    features = [{"input_ids": row.input_ids, "labels": row.labels} for row in rows]
    assert len({len(row["input_ids"]) for row in features}) > 1, "rows of different lengths, so padding happens"
    padded = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id)(features)
    flat = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id, padding_free=True)(features)
    model = AutoModelForCausalLM.from_pretrained(demo_model_dir).eval()
    with torch.no_grad():
        # As the trainer calls the model: no KV cache, which lets transformers keep each conversation to itself
        losses = [float(model(**batch, use_cache=False).loss) for batch in (padded, flat)]
    assert losses[1] == pytest.approx(losses[0], rel=1e-5)
    assert flat["input_ids"].shape[0] == 1 and padded["attention_mask"].numel() > flat["input_ids"].numel()


VARIED = speedups.BatchShape(tuple([40] * 56 + [900] * 8), matmul_params=3_000_000, attention_width=256, layers=4)
SIMILAR = dataclasses.replace(VARIED, lengths=tuple([200, 210, 220, 230] * 16))


def test_padding_free_is_chosen_where_it_saves_compute_and_says_how_much():
    config = RunConfig(per_device_train_batch_size=8)
    assert speedups.batching(config, VARIED) == "padding-free"
    assert speedups.batching(config, SIMILAR) == "padded", "with SDPA, similar lengths attend over the whole batch"
    padded, flat = speedups.layout_costs(VARIED, 8, varlen=False)
    assert flat < padded / 2
    said = recipe_for(config, VARIED)["Padding-free batching"]
    assert said.used and f"about {1 - flat / padded:.0%} less compute than padded batches" in said.reason
    refused = recipe_for(config, SIMILAR)["Padding-free batching"]
    assert not refused.used
    assert refused.reason.startswith("not used for this data and model: padding-free batches would take about")
    assert speedups.batching(RunConfig(padding_free=False), VARIED) == "padded"
    assert speedups.batching(RunConfig(packing=True), SIMILAR) == "packed"


def test_with_a_variable_length_kernel_padding_free_always_costs_less():
    padded, flat = speedups.layout_costs(SIMILAR, 8, varlen=True)
    assert flat < padded
    _, dense = speedups.layout_costs(SIMILAR, 8, varlen=False)
    assert dense > padded


def recipe_for(config: RunConfig, shape: speedups.BatchShape) -> dict[str, speedups.Speedup]:
    return {choice.name: choice for choice in speedups.speedups(config, False, shape)}


def test_the_headline_names_the_layout_and_what_is_used():
    assert speedups.headline(speedups.speedups(RunConfig(), False, VARIED)) == (
        "padding-free batches, no gradient checkpointing, SDPA attention"
    )
    with_all = speedups.speedups(RunConfig(packing=True, gradient_checkpointing=True), False)
    assert speedups.headline(with_all) == "packed rows, gradient checkpointing, SDPA attention"
