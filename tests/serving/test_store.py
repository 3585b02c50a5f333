"""Tests for workbench.serving.store: one base loaded once, adapters switched by name give the same tokens as a
freshly loaded PeftModel, the base answers with adapters off, and the memory budget releases the oldest model."""

import json

import torch
from conftest import copy_trained_run
from safetensors.torch import load_file, save_file

from workbench.models import loading
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.models.generation import generate_answers
from workbench.serving import catalogue
from workbench.serving.store import Store


def conversations(count: int = 6) -> list[list[dict]]:
    return [json.loads(line)["messages"] for line in DEMO_HELDOUT_FILE.read_text().splitlines()[:count]]


def zero_adapter(run_dir) -> None:
    """Make a run's adapter a no-op (every LoRA B matrix zero), so it answers as its base does."""
    weights_file = run_dir / "adapter" / "adapter_model.safetensors"
    weights = load_file(weights_file)
    save_file(
        {name: torch.zeros_like(value) if "lora_B" in name else value for name, value in weights.items()}, weights_file
    )


def answers(store: Store, model_id: str) -> list[str]:
    with store.ready(catalogue.find(model_id)) as ready, ready.context():
        return generate_answers(ready.model, ready.tokenizer, ready.rendering, conversations(), 8)


def fresh_peft_answers(run_dir) -> list[str]:
    from peft import PeftModel

    from workbench.models.rendering import saved_rendering

    tokenizer = loading.load_tokenizer(str(run_dir / "adapter"))
    model = PeftModel.from_pretrained(loading.load_model(loading.resolve_model("demo")), str(run_dir / "adapter"))
    return generate_answers(
        model.eval(), tokenizer, saved_rendering(run_dir / "adapter", tokenizer), conversations(), 8
    )


def test_switching_adapters_on_one_base_matches_freshly_loaded_models(demo_home, trained_demo):
    tuned_dir = copy_trained_run(trained_demo, demo_home, "20260101-000000-tuned")
    zeroed_dir = copy_trained_run(trained_demo, demo_home, "20260101-000001-zeroed")
    zero_adapter(zeroed_dir)
    store = Store()
    base_before = answers(store, "demo")
    tuned = answers(store, tuned_dir.name)
    zeroed = answers(store, zeroed_dir.name)
    assert answers(store, tuned_dir.name) == tuned, "switching back gives the same tokens again"
    assert tuned == fresh_peft_answers(tuned_dir)
    assert zeroed == base_before, "a zeroed adapter answers as the base does"
    assert tuned != base_before, "the trained adapter answers differently from its base"
    assert answers(store, "demo") == base_before, "the base answers with every adapter off"
    [loaded] = store.describe()
    assert (loaded["model"], loaded["adapters"]) == ("demo", sorted([tuned_dir.name, zeroed_dir.name]))


def test_the_memory_budget_releases_the_least_recently_used_model(demo_home, trained_demo, demo_model_dir):
    full_dir = demo_home / "runs" / "20260101-000002-full"
    (full_dir / "adapter").mkdir(parents=True)
    copy_trained_run(trained_demo, demo_home, "20260101-000003-tuned")
    for name in ("config.yaml", "status.json"):
        (full_dir / name).write_bytes((demo_home / "runs" / "20260101-000003-tuned" / name).read_bytes())
    for item in demo_model_dir.iterdir():  # a "full fine-tune": a whole model in the run's adapter folder
        if item.is_file():
            (full_dir / "adapter" / item.name).write_bytes(item.read_bytes())
    (full_dir / "adapter" / "rendering.json").write_bytes(
        (demo_home / "runs" / "20260101-000003-tuned" / "adapter" / "rendering.json").read_bytes()
    )
    store = Store(memory_gb=0.0011)  # room for one demo-sized model (about 0.7 MB of weights)
    answers(store, "demo")
    answers(store, full_dir.name)
    assert [entry["model"] for entry in store.describe()] == [full_dir.name]
    store = Store(memory_gb=1.0)
    answers(store, "demo")
    answers(store, full_dir.name)
    assert sorted(entry["model"] for entry in store.describe()) == sorted(["demo", full_dir.name])


def test_a_chat_waits_for_the_gpu_while_training_runs_have_memory_yet_to_take(demo_home):
    import threading

    import pytest

    from workbench.errors import UserError

    # A simulated GPU (the store's seams): 20 GB free, of which running jobs will still take 19.8 GB.
    yet_to_take = {"gb": 19.8}
    store = Store(gpu_memory=lambda: (20.0, 80.0), jobs_yet_to_take=lambda: yet_to_take["gb"])
    waits = store.wait_for_gpu(catalogue.find("demo"), poll_s=0.05)
    first = next(waits)
    assert first.startswith("Waiting for the GPU: training runs will still take 19.8 GB of the 20.0 GB free")
    threading.Timer(0.3, lambda: yet_to_take.update(gb=0.0)).start()  # the training run ends
    assert all(message.startswith("Waiting for the GPU") for message in waits)
    assert answers(store, "demo"), "then the model loads and answers"
    assert list(store.wait_for_gpu(catalogue.find("demo"))) == [], "a loaded model never waits"
    busy = Store(gpu_memory=lambda: (20.0, 80.0), jobs_yet_to_take=lambda: 19.8)
    with pytest.raises(UserError, match="stayed busy with training"):
        list(busy.wait_for_gpu(catalogue.find("demo"), poll_s=0.01, timeout_s=0.05))
