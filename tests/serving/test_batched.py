"""Tests for workbench.serving.batched and side_by_side: the base and several adapters answer their own
conversations from one batched ``generate`` (peft's mixed-adapter batches), token for token as each answers alone."""

import json

import pytest
from conftest import copy_trained_run
from test_store import conversations, zero_adapter

from workbench.serving import catalogue, side_by_side
from workbench.serving.store import Store, batchable
from workbench.serving.streaming import Reply, Sampling


def alone(store: Store, model_id: str, messages: list[dict], how: Sampling) -> tuple[str, str]:
    with store.ready(catalogue.find(model_id)) as ready, ready.context():
        reply = Reply(ready.model, ready.tokenizer, ready.rendering, messages, how)
        return "".join(reply), reply.finish_reason


def together(store: Store, asks: list[tuple[str, list[dict]]], how: Sampling) -> dict[int, list]:
    answers: dict[int, list] = {index: ["", None] for index in range(len(asks))}
    found = [(catalogue.find(model_id), messages, None) for model_id, messages in asks]
    for event in side_by_side.answers(store, found, how):
        assert event.error is None, event.error
        answers[event.index][0] += event.text
        answers[event.index][1] = event.finish_reason or answers[event.index][1]
    return {index: tuple(answer) for index, answer in answers.items()}


@pytest.fixture
def two_runs(demo_home, trained_demo):
    tuned = copy_trained_run(trained_demo, demo_home, "20260101-000000-tuned").name
    zeroed_dir = copy_trained_run(trained_demo, demo_home, "20260101-000001-zeroed")
    zero_adapter(zeroed_dir)
    return tuned, zeroed_dir.name


@pytest.mark.parametrize(
    "how",
    [Sampling(max_tokens=12), Sampling(max_tokens=12, stop=("was",))],
    ids=["greedy", "stop string"],
)
def test_side_by_side_answers_come_from_one_batched_call_and_match_each_answer_alone(two_runs, how, monkeypatch):
    tuned, zeroed = two_runs
    long_one, short_one = conversations(2)
    asks = [("demo", long_one), (tuned, long_one), (zeroed, short_one), (tuned, short_one)]
    store = Store()
    expected = {index: alone(store, model_id, messages, how) for index, (model_id, messages) in enumerate(asks)}
    calls = []
    loaded = store.loaded["demo"].model
    generate = loaded.generate
    monkeypatch.setattr(loaded, "generate", lambda *a, **k: calls.append(k["adapter_names"]) or generate(*a, **k))
    assert together(store, asks, how) == expected
    assert calls == [["__base__", tuned, zeroed, tuned]], "one generate call for the four answers"
    assert expected[1][0].strip() != expected[0][0].strip(), "the tuned adapter and the base answer differently"


def test_sampled_side_by_side_answers_repeat_with_the_same_seed(two_runs):
    tuned, _ = two_runs
    [messages] = conversations(1)
    how = Sampling(max_tokens=12, temperature=1.2, seed=7)
    store = Store()
    first = together(store, [("demo", messages), (tuned, messages)], how)
    assert together(store, [("demo", messages), (tuned, messages)], how) == first


def test_a_full_fine_tune_or_a_dora_adapter_answers_on_its_own(two_runs, demo_home):
    tuned, zeroed = two_runs
    dora = demo_home / "runs" / zeroed / "adapter" / "adapter_config.json"
    found = [catalogue.find("demo"), catalogue.find(tuned)]
    assert batchable(found) and not batchable(found[:1])
    assert side_by_side.groups([(served, [], None) for served in found]) == [[0, 1]]
    dora.write_text(json.dumps({**json.loads(dora.read_text()), "use_dora": True}))
    with_dora = [*found, catalogue.find(zeroed)]
    assert not batchable(with_dora), "peft mixes no DoRA adapter into a batch"
    assert side_by_side.groups([(served, [], None) for served in with_dora]) == [[0], [1], [2]]
