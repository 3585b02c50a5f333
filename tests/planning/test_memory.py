"""Tests for workbench.planning.memory: memory against published figures, free memory and disk.

Published figures come from ../shared/notes/performance.md (section numbers cited where used).
"""

import pytest
from model_shapes import CPU, LLAMA2_7B, LLAMA31_8B, LLAMA32_3B, RTX_4090, estimated_memory

from workbench.models.device import Device
from workbench.planning import memory
from workbench.planning.model_facts import facts_from_config
from workbench.planning.timing import MFU


def test_memory_ordering_full_above_lora_above_qlora(llama_7b):
    by_method = {m: estimated_memory(llama_7b, method=m, per_device_train_batch_size=1, max_length=1024) for m in MFU}
    assert by_method["full"] > by_method["lora"] > by_method["qlora"]
    assert by_method["full"] > by_method["freeze"] > by_method["qlora"]


@pytest.mark.parametrize("method", ["full", "lora", "qlora", "freeze"])
@pytest.mark.parametrize("device", [RTX_4090, CPU], ids=["gpu", "cpu"])
def test_gradient_checkpointing_lowers_the_estimate(llama_7b, method, device):
    values = {"method": method, "per_device_train_batch_size": 4, "max_length": 1024}
    without = estimated_memory(llama_7b, device, **values)
    assert estimated_memory(llama_7b, device, gradient_checkpointing=True, **values) < without


def test_longer_sequences_and_bigger_batches_need_more(llama_7b):
    assert estimated_memory(llama_7b, max_length=2048, method="qlora") > estimated_memory(
        llama_7b, max_length=1024, method="qlora"
    )
    assert estimated_memory(llama_7b, per_device_train_batch_size=8) > estimated_memory(
        llama_7b, per_device_train_batch_size=4
    )


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
    estimated = estimated_memory(facts_from_config(shape), **settings)
    assert published_gb / 1.5 <= estimated <= published_gb * 1.5, source


def test_estimate_lands_near_the_peft_benchmark_without_checkpointing():
    # §1.7 peft MetaMathQA on an L40S: Llama-3.2-3B, bf16, batch 4, max length 768, no gradient checkpointing:
    # full fine-tuning 38.9 GB, LoRA r=32 22.3 GB.
    facts = facts_from_config(LLAMA32_3B)
    shape = {"per_device_train_batch_size": 4, "max_length": 768}
    assert estimated_memory(facts, method="full", **shape) == pytest.approx(38.9, rel=0.3)
    assert estimated_memory(facts, method="lora", lora_r=32, **shape) == pytest.approx(22.3, rel=0.3)


def test_memory_uses_the_longest_conversation_not_max_length_unless_packing(llama_7b):
    short = [100, 120, 200]
    padded = estimated_memory(llama_7b, lengths=short, max_length=4096, padding_free=False)
    assert padded == estimated_memory(llama_7b, lengths=[200], max_length=200, padding_free=False)
    assert estimated_memory(llama_7b, lengths=short, max_length=4096, packing=True) > padded


def test_padding_free_batches_hold_the_longest_conversations_laid_end_to_end(llama_7b):
    lengths = [100] * 50 + [1000, 900, 50]
    values = {"lengths": lengths, "max_length": 4096, "per_device_train_batch_size": 2}
    padded = estimated_memory(llama_7b, padding_free=False, **values)  # two rows of the longest: 2 x 1000 tokens
    flat = estimated_memory(llama_7b, padding_free=True, **values)  # at worst the two longest: 1000 + 900 tokens
    assert flat < padded
    same_tokens = {"lengths": [950], "max_length": 950, "per_device_train_batch_size": 2, "padding_free": False}
    assert flat == estimated_memory(llama_7b, **same_tokens)


def test_free_disk_of_a_folder_that_does_not_exist_yet(tmp_path):
    assert memory.free_disk_gb(tmp_path / "runs" / "not-yet") > 0


def test_a_cpu_without_a_free_figure_uses_host_memory():
    available = memory.available_memory_gb(Device(cuda=False, name="CPU (2 cores)"))
    assert available is not None and available > 0


def test_full_fine_tuning_on_several_gpus_holds_a_share_of_the_model_per_gpu(llama_7b):
    values = {"method": "full", "per_device_train_batch_size": 1, "max_length": 1024}
    one, four = (estimated_memory(llama_7b, RTX_4090, gpus=gpus, **values) for gpus in (1, 4))
    assert four < one / 2, "weights, gradients and optimizer state are sharded over the 4 GPUs (FSDP)"
    lora = {**values, "method": "lora"}
    assert estimated_memory(llama_7b, RTX_4090, gpus=4, **lora) == estimated_memory(llama_7b, RTX_4090, **lora)
