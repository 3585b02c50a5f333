"""Tests for workbench.preflight: parameter counts, memory, steps, time and disk estimates, verdicts and fixes.

Published figures come from ../shared/notes/performance.md (section numbers cited where used). No test trains or
loads weights: real parameter counts come from models built on PyTorch's "meta" device.
"""

import dataclasses
import json

import pytest

from workbench import preflight
from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.models import DeviceInfo
from workbench.preflight import Fix, ModelFacts, estimate, facts_from_config, model_facts, peak_memory_gb


LLAMA2_7B = {
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "vocab_size": 32000,
    "tie_word_embeddings": False,
}
LLAMA31_8B = {**LLAMA2_7B, "intermediate_size": 14336, "num_key_value_heads": 8, "vocab_size": 128256}
LLAMA32_3B = {
    **LLAMA31_8B,
    "hidden_size": 3072,
    "intermediate_size": 8192,
    "num_hidden_layers": 28,
    "num_attention_heads": 24,
    "tie_word_embeddings": True,
}
RTX_4090 = DeviceInfo(cuda=True, name="NVIDIA GeForce RTX 4090", total_gb=24.0, free_gb=23.5)
A100 = DeviceInfo(cuda=True, name="NVIDIA A100-SXM4-40GB", total_gb=40.0, free_gb=39.5)
CPU = DeviceInfo(cuda=False, name="CPU (2 cores)", total_gb=None, free_gb=16.0)
PLENTY_OF_DISK = 500.0


@pytest.fixture(scope="module")
def llama_7b() -> ModelFacts:
    return facts_from_config(LLAMA2_7B)


def config(**values) -> RunConfig:
    return RunConfig(model="/models/x", dataset="/data/train.jsonl", **values)


def memory(facts: ModelFacts, device: DeviceInfo = RTX_4090, lengths: list[int] | None = None, **values) -> float:
    return peak_memory_gb(config(**values), facts, lengths or [values.get("max_length", 512)], device.cuda)


def write_config(folder, values: dict) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(values), encoding="utf-8")
    return str(folder)


# ---------------------------------------------------------------- model facts


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(("LlamaConfig", LLAMA2_7B), id="llama2-7b"),
        pytest.param(("LlamaConfig", LLAMA31_8B), id="llama3.1-8b-gqa"),
        pytest.param(("LlamaConfig", {**LLAMA2_7B, "hidden_size": 64, "intermediate_size": 128,
                                      "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
                                      "vocab_size": 1000, "tie_word_embeddings": True}), id="tiny-tied"),
        pytest.param(("Qwen2Config", {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
                                      "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
                                      "tie_word_embeddings": True}), id="qwen2.5-0.5b-qkv-bias"),
        pytest.param(("GPT2Config", {}), id="gpt2"),
        pytest.param(("MixtralConfig", {"hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2,
                                        "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 1000,
                                        "num_local_experts": 4, "num_experts_per_tok": 2}), id="mixtral-moe"),
    ],
)  # fmt: skip
def test_parameter_count_from_config_json_matches_the_real_model(tmp_path, shape):
    import torch
    import transformers

    class_name, values = shape
    values = {key: value for key, value in values.items() if key != "model_type"}
    hf_config = getattr(transformers, class_name)(**values)
    hf_config.save_pretrained(tmp_path)  # writes config.json only: no weights anywhere
    with torch.device("meta"):
        real = sum(p.numel() for p in transformers.AutoModelForCausalLM.from_config(hf_config).parameters())
    facts = model_facts(str(tmp_path))
    assert facts.n_params == real
    assert facts.n_layers == hf_config.num_hidden_layers and facts.hidden_size == hf_config.hidden_size


def test_a_config_json_transformers_does_not_know_is_read_as_plain_json(tmp_path):
    facts = model_facts(write_config(tmp_path / "custom", {**LLAMA2_7B, "model_type": "my-own-llama"}))
    assert facts.n_params == 6_738_415_616  # Llama-2-7B
    assert facts.vocab_size == 32000 and facts.n_layers == 32


def test_a_config_without_sizes_is_a_plain_user_error(tmp_path):
    with pytest.raises(UserError, match="hidden size"):
        model_facts(write_config(tmp_path / "odd", {"model_type": "my-own-llama", "vocab_size": 10}))


def test_lora_parameters_match_peft_and_the_published_count(tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    small = {**LLAMA31_8B, "hidden_size": 128, "intermediate_size": 320, "num_hidden_layers": 2, "vocab_size": 500}
    hf_config = LlamaConfig(**{key: value for key, value in small.items() if key != "model_type"})
    with torch.device("meta"):
        model = get_peft_model(LlamaForCausalLM(hf_config), LoraConfig(r=8, target_modules="all-linear"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert preflight.lora_params(facts_from_config(small), 8) == trainable
    # performance.md §2.3: LoRA r=16 on all linear layers of Llama-3.1-8B = 41.9M parameters
    assert preflight.lora_params(facts_from_config(LLAMA31_8B), 16) == pytest.approx(41.9e6, rel=0.01)
    only_qv = preflight.lora_params(facts_from_config(LLAMA31_8B), 16, "q_proj, v_proj")
    assert only_qv == 32 * 16 * ((4096 + 4096) + (4096 + 1024))


def test_a_folder_without_config_is_a_plain_user_error(tmp_path):
    with pytest.raises(UserError, match="could not be read"):
        model_facts(str(tmp_path / "nothing-here"))


def test_built_in_demo_model_shape_counts_exactly(tmp_path, home):
    demo = pytest.importorskip("workbench.demo")  # checked on its shape: building the model takes minutes here
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    hf_config = LlamaConfig(vocab_size=demo.TOKENIZER_VOCAB_SIZE, tie_word_embeddings=True, **demo.MODEL_SHAPE)
    hf_config.save_pretrained(tmp_path)
    with torch.device("meta"):
        real = sum(p.numel() for p in LlamaForCausalLM(hf_config).parameters())
    assert model_facts(str(tmp_path)).n_params == real
    assert model_facts("demo").n_params == pytest.approx(real, rel=0.05)  # the built copy's vocabulary may differ


# ---------------------------------------------------------------- memory


def test_memory_ordering_full_above_lora_above_qlora(llama_7b):
    by_method = {m: memory(llama_7b, method=m, per_device_train_batch_size=1, max_length=1024) for m in preflight.MFU}
    assert by_method["full"] > by_method["lora"] > by_method["qlora"]
    assert by_method["full"] > by_method["freeze"] > by_method["qlora"]


@pytest.mark.parametrize("method", ["full", "lora", "qlora", "freeze"])
@pytest.mark.parametrize("device", [RTX_4090, CPU], ids=["gpu", "cpu"])
def test_gradient_checkpointing_lowers_the_estimate(llama_7b, method, device):
    values = {"method": method, "per_device_train_batch_size": 4, "max_length": 1024}
    without = memory(llama_7b, device, **values)
    assert memory(llama_7b, device, gradient_checkpointing=True, **values) < without


def test_longer_sequences_and_bigger_batches_need_more(llama_7b):
    assert memory(llama_7b, max_length=2048, method="qlora") > memory(llama_7b, max_length=1024, method="qlora")
    assert memory(llama_7b, per_device_train_batch_size=8) > memory(llama_7b, per_device_train_batch_size=4)


def test_7b_on_a_24_gb_gpu_is_red_for_full_and_fits_with_qlora(llama_7b):
    lengths = [900] * 500 + [1024] * 100
    shape = {"per_device_train_batch_size": 1, "max_length": 1024}
    full = estimate(config(method="full", **shape), llama_7b, lengths, RTX_4090, PLENTY_OF_DISK)
    qlora = estimate(config(method="qlora", **shape), llama_7b, lengths, RTX_4090, PLENTY_OF_DISK)
    assert full.verdict == "red" and "out-of-memory" in full.reasons[0]
    assert qlora.verdict in ("green", "amber") and qlora.peak_memory_gb < 12
    assert any(fix.changes.get("method") == "qlora" for fix in full.fixes)


@pytest.mark.parametrize(
    ("shape", "values", "published_gb", "source"),
    [
        # §1.1C LLaMA-Factory: LLaMA2-7B, A100, batch 4, max length 1024, LoRA rank 8, HF 4-bit: 9 GB; 16-bit: 18 GB
        # (LLaMA-Factory turns gradient checkpointing on by default).
        (LLAMA2_7B, {"method": "qlora", "lora_r": 8}, 9.0, "LLaMA-Factory 7B QLoRA"),
        (LLAMA2_7B, {"method": "lora", "lora_r": 8}, 18.0, "LLaMA-Factory 7B LoRA"),
        # §1.6 torchtune: Llama 3.1 8B QLoRA, batch 2, packed 2048, activation checkpointing: 7.4 GiB
        (LLAMA31_8B, {"method": "qlora", "per_device_train_batch_size": 2, "max_length": 2048}, 7.4, "torchtune 8B"),
    ],
)
def test_estimate_lands_near_published_qlora_and_lora_figures(shape, values, published_gb, source):
    settings = {"per_device_train_batch_size": 4, "max_length": 1024, "gradient_checkpointing": True, **values}
    estimated = memory(facts_from_config(shape), **settings)
    assert published_gb / 1.5 <= estimated <= published_gb * 1.5, source


def test_estimate_lands_near_the_peft_benchmark_without_checkpointing():
    # §1.7 peft MetaMathQA on an L40S: Llama-3.2-3B, bf16, batch 4, max length 768, no gradient checkpointing:
    # full fine-tuning 38.9 GB, LoRA r=32 22.3 GB.
    facts = facts_from_config(LLAMA32_3B)
    shape = {"per_device_train_batch_size": 4, "max_length": 768}
    assert memory(facts, method="full", **shape) == pytest.approx(38.9, rel=0.3)
    assert memory(facts, method="lora", lora_r=32, **shape) == pytest.approx(22.3, rel=0.3)


def test_memory_uses_the_longest_conversation_not_max_length_unless_packing(llama_7b):
    short = [100, 120, 200]
    padded = memory(llama_7b, lengths=short, max_length=4096)
    assert padded == memory(llama_7b, lengths=[200], max_length=200)
    assert memory(llama_7b, lengths=short, max_length=4096, packing=True) > padded


# ---------------------------------------------------------------- fixes


OUT_OF_MEMORY_CASES = [
    pytest.param({"method": "full", "per_device_train_batch_size": 8, "max_length": 2048}, RTX_4090, id="full-gpu"),
    pytest.param({"method": "lora", "per_device_train_batch_size": 16, "max_length": 4096}, A100, id="lora-a100"),
    pytest.param({"method": "qlora", "per_device_train_batch_size": 32, "max_length": 4096}, RTX_4090, id="qlora"),
    pytest.param({"method": "lora", "per_device_train_batch_size": 16, "max_length": 2048}, CPU, id="lora-cpu"),
]


@pytest.mark.parametrize(("values", "device"), OUT_OF_MEMORY_CASES)
def test_every_offered_fix_lowers_the_estimate(llama_7b, values, device):
    lengths = [300] * 960 + [3000] * 40  # a long tail: the 95th percentile is far below the longest
    base = config(**values)
    result = estimate(base, llama_7b, lengths, device, PLENTY_OF_DISK)
    assert result.verdict == "red" and result.fixes
    for fix in result.fixes:
        fixed = dataclasses.replace(base, **fix.changes)
        assert fixed.validate() == []
        assert peak_memory_gb(fixed, llama_7b, lengths, device.cuda) < result.peak_memory_gb, fix.label
        assert fix.peak_memory_gb == peak_memory_gb(fixed, llama_7b, lengths, device.cuda)


def test_fixes_cover_the_95th_percentile_and_keep_the_effective_batch(llama_7b):
    lengths = [300] * 960 + [3000] * 40
    values = {"method": "lora", "per_device_train_batch_size": 16, "gradient_accumulation_steps": 2}
    result = estimate(config(max_length=4096, **values), llama_7b, lengths, A100, PLENTY_OF_DISK)
    fixes = {next(iter(fix.changes)): fix for fix in result.fixes}
    assert 300 <= fixes["max_length"].changes["max_length"] < 3000
    batch = fixes["per_device_train_batch_size"].changes
    assert batch["per_device_train_batch_size"] < 16
    assert batch["per_device_train_batch_size"] * batch["gradient_accumulation_steps"] == 32
    assert fixes["gradient_checkpointing"].changes == {"gradient_checkpointing": True}
    assert fixes["method"].changes == {"method": "qlora"}


def test_fixes_already_applied_are_not_offered(llama_7b):
    values = {"method": "qlora", "per_device_train_batch_size": 1, "gradient_checkpointing": True}
    lengths = [8000] * 10
    result = estimate(config(max_length=8192, **values), llama_7b, lengths, DeviceInfo(True, "T4", 16, 3), 100.0)
    assert result.verdict == "red"
    offered = {name for fix in result.fixes for name in fix.changes}
    assert not offered & {"method", "gradient_checkpointing", "per_device_train_batch_size"}


def test_qlora_is_not_offered_on_a_cpu(llama_7b):
    result = estimate(config(method="full", max_length=2048), llama_7b, [2048] * 10, CPU, PLENTY_OF_DISK)
    assert all(fix.changes.get("method") != "qlora" for fix in result.fixes)


def test_a_run_that_fits_gets_no_fixes(llama_7b):
    result = estimate(config(method="qlora", max_length=512), llama_7b, [400] * 100, A100, PLENTY_OF_DISK)
    assert result.verdict == "green" and result.fixes == []
    assert result.reasons[0].startswith("Fits:")


def test_when_no_single_fix_is_enough_all_of_them_together_are_offered(llama_7b):
    values = {"method": "full", "per_device_train_batch_size": 8, "max_length": 2048}
    result = estimate(config(**values), llama_7b, [1800] * 100, RTX_4090, PLENTY_OF_DISK)
    together = result.fixes[-1]
    assert together.peak_memory_gb < RTX_4090.free_gb < min(fix.peak_memory_gb for fix in result.fixes[:-1])


# ---------------------------------------------------------------- verdicts


def test_jobs_queued_on_the_same_gpu_count_against_the_free_memory(llama_7b):
    values = config(method="lora", per_device_train_batch_size=1, max_length=512)
    alone = estimate(values, llama_7b, [500] * 50, A100, PLENTY_OF_DISK)
    shared = estimate(values, llama_7b, [500] * 50, A100, PLENTY_OF_DISK, other_jobs_gb=30.0)
    assert alone.verdict == "green" and shared.verdict == "red"
    assert shared.available_gb == pytest.approx(A100.free_gb - 30.0)
    assert "queued" in shared.reasons[0]


def test_tight_memory_is_amber(llama_7b):
    needed = memory(llama_7b, method="lora", per_device_train_batch_size=1)
    tight = DeviceInfo(True, "NVIDIA A100 80GB", 80.0, needed / 0.9)
    result = estimate(config(method="lora", per_device_train_batch_size=1), llama_7b, [512], tight, PLENTY_OF_DISK)
    assert result.verdict == "amber" and result.reasons[0].startswith("Tight fit")


def test_too_little_disk_is_red_and_full_fine_tuning_needs_more_disk(llama_7b):
    lengths = [500] * 1000
    lora = estimate(config(method="qlora"), llama_7b, lengths, A100, free_disk_gb=0.1)
    assert lora.verdict == "red" and any("disk" in reason for reason in lora.reasons)
    full = estimate(config(method="full"), llama_7b, lengths, A100, PLENTY_OF_DISK)
    assert full.disk_needed_gb > 3 * 12.5 > lora.disk_needed_gb  # checkpoints hold weights and Adam moments


def test_a_very_long_run_is_amber(llama_7b):
    result = estimate(config(method="qlora", num_train_epochs=100), llama_7b, [1000] * 20000, CPU, PLENTY_OF_DISK)
    assert result.verdict in ("amber", "red") and any("more than a day" in reason for reason in result.reasons)


def test_unknown_gpu_memory_is_amber(llama_7b):
    unknown = DeviceInfo(True, "Some GPU", None, None)
    result = estimate(config(method="qlora"), llama_7b, [100], unknown, PLENTY_OF_DISK)
    assert result.verdict == "amber" and "could not be read" in result.reasons[0]


def test_a_cpu_without_a_free_figure_uses_host_memory():
    available = preflight.available_memory_gb(DeviceInfo(cuda=False, name="CPU (2 cores)"))
    assert available is not None and available > 0


# ---------------------------------------------------------------- tokens, steps, time


def test_steps_follow_the_trainer_arithmetic(llama_7b):
    lengths = [100] * 1000
    result = estimate(
        config(per_device_train_batch_size=8, gradient_accumulation_steps=2), llama_7b, lengths, A100, 99
    )
    assert result.steps_per_epoch == 63  # ceil(ceil(1000 / 8) / 2)
    assert result.steps == 189  # 3 epochs
    capped = estimate(config(max_steps=50), llama_7b, lengths, A100, 99)
    assert capped.steps == 50
    assert preflight.optimizer_steps(10, 8, 1, 0.5) == 1
    assert preflight.optimizer_steps(0, 8, 1, 3) == 3  # the Trainer always takes at least one step per epoch


def test_tokens_per_epoch_cut_at_max_length_and_held_out_rows_removed(llama_7b):
    lengths = [100] * 90 + [5000] * 10
    result = estimate(config(max_length=1000), llama_7b, lengths, A100, 99)
    assert result.tokens_per_epoch == 90 * 100 + 10 * 1000
    held = estimate(config(max_length=1000, validation_fraction=0.1), llama_7b, [100] * 100, A100, 99)
    assert held.tokens_per_epoch == 90 * 100
    assert any("longer than the max length" in reason for reason in result.reasons)


def test_packing_gives_fewer_steps(llama_7b):
    lengths = [100] * 1000
    padded = estimate(config(max_length=1024), llama_7b, lengths, A100, 99)
    packed = estimate(config(max_length=1024, packing=True), llama_7b, lengths, A100, 99)
    assert packed.steps == 3 * 13  # 100,000 tokens in rows of 1,024 = 98 rows = 13 batches of 8
    assert packed.steps < padded.steps


def test_time_reflects_method_checkpointing_and_gpu(llama_7b):
    def seconds(device: DeviceInfo = A100, **values) -> float:
        return estimate(config(**values), llama_7b, [1000] * 2000, device, PLENTY_OF_DISK).est_seconds

    assert seconds(method="qlora") > seconds(method="lora")
    assert seconds(method="lora", gradient_checkpointing=True) > seconds(method="lora")
    h100 = DeviceInfo(True, "NVIDIA H100 80GB HBM3", 80, 79)
    assert seconds(h100, method="lora") < seconds(method="lora") < seconds(DeviceInfo(True, "Tesla T4", 16, 15))
    assert seconds(CPU, method="lora") > 50 * seconds(method="lora")


def test_7b_qlora_throughput_is_near_the_published_a100_figure(llama_7b):
    # §1.1C LLaMA-Factory: LLaMA2-7B QLoRA (HF, 4-bit) on one A100, batch 4, length 1024: 2,415 tokens/s per GPU.
    values = {"method": "qlora", "lora_r": 8, "per_device_train_batch_size": 4, "gradient_checkpointing": True}
    result = estimate(config(max_length=1024, **values), llama_7b, [1024] * 8000, A100, PLENTY_OF_DISK)
    tokens_per_second = 3 * result.tokens_per_epoch / (result.est_seconds - preflight.SETUP_SECONDS)
    assert 2415 / 2 < tokens_per_second < 2415 * 1.5


def test_gpu_table_matches_specific_names_first():
    assert preflight.gpu_spec("NVIDIA H100 PCIe").peak_tflops == 756
    assert preflight.gpu_spec("NVIDIA H100 80GB HBM3").peak_tflops == pytest.approx(989.4)
    assert preflight.gpu_spec("NVIDIA A10G").peak_tflops < preflight.gpu_spec("NVIDIA A10").peak_tflops
    assert preflight.gpu_spec("Mystery Accelerator") is preflight.UNKNOWN_GPU


# ---------------------------------------------------------------- helpers and text


def test_free_disk_of_a_folder_that_does_not_exist_yet(tmp_path):
    assert preflight.free_disk_gb(tmp_path / "runs" / "not-yet") > 0


def test_summary_is_plain_text_with_the_verdict_numbers_and_fixes(llama_7b):
    result = estimate(config(method="full", max_length=2048), llama_7b, [2000] * 10, RTX_4090, PLENTY_OF_DISK)
    text = preflight.format_summary(result)
    assert text.startswith("Verdict: RED.")
    assert f"{result.peak_memory_gb:.1f} GB needed" in text
    assert all(fix.label in text for fix in result.fixes)
    assert isinstance(result.fixes[0], Fix)


@pytest.mark.parametrize(
    ("seconds", "text"), [(12, "12 s"), (600, "10 min"), (7800, "2 h 10 min"), (3 * 86400 + 4 * 3600, "3 days 4 h")]
)
def test_durations_read_naturally(seconds, text):
    assert preflight.format_duration(seconds) == text
