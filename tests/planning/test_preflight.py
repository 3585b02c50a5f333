"""Tests for workbench.preflight: verdicts, the plain-language reasons, one-click fixes, steps and time as shown.

Published figures come from ../shared/notes/performance.md (section numbers cited where used). No test trains or
loads weights.
"""

import dataclasses

import pytest
from conftest import claim_next, dead_pid
from model_shapes import A100, CPU, PLENTY_OF_DISK, RTX_4090, config, estimated_memory

from workbench.models.device import Device
from workbench.planning import preflight, timing
from workbench.planning.fixes import Fix
from workbench.planning.memory import peak_memory_gb
from workbench.planning.preflight import estimate
from workbench.planning.recipe import LEARNING_RATES


def test_7b_on_a_24_gb_gpu_is_red_for_full_and_fits_with_qlora(llama_7b):
    lengths = [900] * 500 + [1024] * 100
    shape = {"per_device_train_batch_size": 1, "max_length": 1024}
    full = estimate(config(method="full", **shape), llama_7b, lengths, RTX_4090, PLENTY_OF_DISK)
    qlora = estimate(config(method="qlora", **shape), llama_7b, lengths, RTX_4090, PLENTY_OF_DISK)
    assert full.verdict == "red" and "out-of-memory" in full.reasons[0]
    assert qlora.verdict in ("green", "amber") and qlora.peak_memory_gb < 12
    assert any(fix.changes.get("method") == "qlora" for fix in full.fixes)


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
    base = config(learning_rate=LEARNING_RATES[values["method"]], **values)  # only memory is wrong here
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
    result = estimate(config(max_length=8192, **values), llama_7b, lengths, Device(True, "T4", 16, 3), 100.0)
    assert result.verdict == "red"
    offered = {name for fix in result.fixes for name in fix.changes}
    assert not offered & {"method", "gradient_checkpointing", "per_device_train_batch_size"}


def test_a_run_that_fits_gets_no_fixes(llama_7b):
    result = estimate(config(method="qlora", max_length=512), llama_7b, [400] * 100, A100, PLENTY_OF_DISK)
    assert result.verdict == "green" and result.fixes == []
    assert result.reasons[0].startswith("Fits:")


def test_when_no_single_fix_is_enough_all_of_them_together_are_offered(llama_7b):
    values = {"method": "full", "per_device_train_batch_size": 8, "max_length": 2048, "learning_rate": 1e-5}
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
    needed = estimated_memory(llama_7b, method="lora", per_device_train_batch_size=1)
    tight = Device(True, "NVIDIA A100 80GB", 80.0, needed / 0.9)
    result = estimate(
        config(method="lora", per_device_train_batch_size=1), llama_7b, [512] * 20, tight, PLENTY_OF_DISK
    )
    assert result.verdict == "amber" and result.reasons[0].startswith("Tight fit")


def test_too_little_disk_is_red_and_full_fine_tuning_needs_more_disk(llama_7b):
    lengths = [500] * 1000
    lora = estimate(config(method="qlora"), llama_7b, lengths, A100, free_disk_gb=0.1)
    assert lora.verdict == "red" and any("disk" in reason for reason in lora.reasons)
    assert lora.fixes == [] and "not enough free disk" in preflight.verdict_text(lora)
    assert lora.blocked.startswith("The adapter and checkpoints need about"), "no 'start anyway' overrides a full disk"
    full = estimate(config(method="full"), llama_7b, lengths, A100, PLENTY_OF_DISK)
    assert full.disk_needed_gb > 3 * 12.5 > lora.disk_needed_gb  # checkpoints hold weights and Adam moments


def test_a_very_long_run_is_amber(llama_7b):
    result = estimate(config(method="qlora", num_train_epochs=100), llama_7b, [1000] * 20000, CPU, PLENTY_OF_DISK)
    assert result.verdict in ("amber", "red") and any("more than a day" in reason for reason in result.reasons)


def test_unknown_gpu_memory_is_amber(llama_7b):
    unknown = Device(True, "Some GPU", None, None)
    result = estimate(config(method="qlora"), llama_7b, [100] * 20, unknown, PLENTY_OF_DISK)
    assert result.verdict == "amber" and "could not be read" in result.reasons[0]


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


def test_tokens_per_epoch_cut_at_max_length_and_held_out_rows_removed(llama_7b):
    lengths = [100] * 90 + [5000] * 10
    result = estimate(config(max_length=1000), llama_7b, lengths, A100, 99)
    assert result.tokens_per_epoch == 90 * 100 + 10 * 1000
    held = estimate(config(max_length=1000, validation_fraction=0.1), llama_7b, [100] * 100, A100, 99)
    assert held.tokens_per_epoch == 90 * 100
    assert any("longer than the max length" in reason for reason in result.reasons)


def test_a_separate_evaluation_set_means_nothing_is_held_out_of_the_training_rows(llama_7b):
    values = config(max_length=1000, validation_fraction=0.1)
    split_here = estimate(values, llama_7b, [100] * 100, A100, 99)
    separate = estimate(values, llama_7b, [100] * 100, A100, 99, eval_token_lengths=[100] * 20)
    assert split_here.tokens_per_epoch == 90 * 100 and separate.tokens_per_epoch == 100 * 100


def test_packing_gives_fewer_steps(llama_7b):
    lengths = [100] * 1000
    padded = estimate(config(max_length=1024), llama_7b, lengths, A100, 99)
    packed = estimate(config(max_length=1024, packing=True), llama_7b, lengths, A100, 99)
    assert packed.steps == 3 * 13  # 100,000 tokens in rows of 1,024 = 98 rows = 13 batches of 8
    assert packed.steps < padded.steps


def test_time_reflects_method_checkpointing_and_gpu(llama_7b):
    def seconds(device: Device = A100, **values) -> float:
        return estimate(config(**values), llama_7b, [1000] * 2000, device, PLENTY_OF_DISK).est_seconds

    assert seconds(method="qlora") > seconds(method="lora")
    assert seconds(method="lora", gradient_checkpointing=True) > seconds(method="lora")
    h100 = Device(True, "NVIDIA H100 80GB HBM3", 80, 79)
    assert seconds(h100, method="lora") < seconds(method="lora") < seconds(Device(True, "Tesla T4", 16, 15))
    assert seconds(CPU, method="lora") > 50 * seconds(method="lora")


def test_7b_qlora_throughput_is_near_the_published_a100_figure(llama_7b):
    # §1.1C LLaMA-Factory: LLaMA2-7B QLoRA (HF, 4-bit) on one A100, batch 4, length 1024: 2,415 tokens/s per GPU.
    values = {"method": "qlora", "lora_r": 8, "per_device_train_batch_size": 4, "gradient_checkpointing": True}
    result = estimate(config(max_length=1024, **values), llama_7b, [1024] * 8000, A100, PLENTY_OF_DISK)
    tokens_per_second = 3 * result.tokens_per_epoch / (result.est_seconds - timing.SETUP_SECONDS)
    assert 2415 / 2 < tokens_per_second < 2415 * 1.5


# ---------------------------------------------------------------- helpers and text


def test_summary_is_plain_text_with_the_verdict_numbers_and_fixes(llama_7b):
    result = estimate(config(method="full", max_length=2048), llama_7b, [2000] * 10, RTX_4090, PLENTY_OF_DISK)
    text = preflight.format_summary(result)
    assert text.startswith("Verdict: RED.")
    assert f"{result.peak_memory_gb:.1f} GB needed" in text
    assert all(fix.label in text for fix in result.fixes)
    assert isinstance(result.fixes[0], Fix)


def test_check_counts_memory_held_by_running_runs_as_free_on_a_gpu(demo_home):
    # A GPU is only described here (no CUDA device exists on this machine): 80 GB in all, 10 GB free right now.
    from workbench.jobs import control, queue
    from workbench.planning import presets

    h100 = Device(cuda=True, name="NVIDIA H100 80GB HBM3", total_gb=80.0, free_gb=10.0)
    config = presets.demo_config()
    alone = preflight.check(config, h100)
    running = control.submit(config, peak_gb=50.0)
    claim_next()
    queue.mark_running(running.run_id, dead_pid(), "0")
    shared = preflight.check(config, h100)
    assert alone.available_gb == 10.0 and shared.available_gb == 60.0
    assert "Runs of this workbench (1 run) hold about 50.0 GB" in shared.reasons[1]
    assert preflight.check(config, CPU).available_gb == CPU.free_gb, "on a CPU nothing is added"


def test_writing_answers_for_the_scores_is_in_the_time_and_named_when_it_is_a_big_part(llama_7b):
    h100 = Device(True, "NVIDIA H100 80GB HBM3", 80, 79)

    def check(answer_length: int) -> preflight.Preflight:
        values = {"method": "lora", "max_new_tokens_eval": answer_length, "validation_fraction": 0.1}
        return estimate(config(**values), llama_7b, [300] * 500, h100, PLENTY_OF_DISK)

    short, long = check(16), check(1024)
    # 50 held-out rows: base and tuned in 2 x 4 batches of up to 16, and the sample answers at the start, each
    # evaluation and the end; a greedy step of a 32-layer model takes ~25 ms of launches (performance.md §3) plus
    # one read of the 13.5 GB of bf16 weights at 3.35 TB/s
    steps = (8 + long.plan.evaluations + 2) * 1024
    assert long.answering_seconds == pytest.approx(steps * (0.0267 + llama_7b.n_params * 2 / 3.35e12), rel=0.05)
    assert long.est_seconds - short.est_seconds == pytest.approx(long.answering_seconds - short.answering_seconds)
    assert "of it is writing answers for the held-out scores" in " ".join(long.reasons)
    assert "writing answers" not in " ".join(short.reasons)


def test_the_demo_model_on_ones_own_data_says_what_it_can_and_cannot_show(llama_7b):
    from workbench.config import RunConfig

    own = estimate(RunConfig(dataset="/data/mine.jsonl"), llama_7b, [100] * 200, CPU, PLENTY_OF_DISK)
    demo = estimate(RunConfig(), llama_7b, [100] * 200, CPU, PLENTY_OF_DISK)
    assert preflight.DEMO_ON_OWN_DATA in own.reasons and preflight.DEMO_ON_OWN_DATA not in demo.reasons
    assert own.verdict == demo.verdict, "a note, not a verdict: the workflow itself works"
