"""Tests for workbench.serving.vllm_engine with a real vLLM (its CPU build, in .venv-vllm, which ``make test``
installs): the model server started with WORKBENCH_SERVE_ENGINE=vllm answers the official ``openai`` client with a
run's tuned answer, token for token as the transformers engine does for the base and the run, side by side too, with
the same answer loss; and a killed model server takes its vLLM with it.

vLLM's CPU attention takes heads of 32 dimensions or more, and the demo model's are 16, so these tests train the
demo task on the same model with 2 heads of 32.
"""

import json
import os
import signal
from pathlib import Path

import openai
import pytest
from conftest import link_demo_model, run_training, wait_for
from leftovers import stop_model_server

from workbench.models import demo
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.planning import presets
from workbench.serving import catalogue, process
from workbench.serving import client as workbench_client
from workbench.serving.engine import TransformersEngine
from workbench.serving.streaming import Sampling


VLLM_PYTHON = Path(os.environ.get("WORKBENCH_TEST_VLLM_PYTHON", ".venv-vllm/bin/python")).absolute()
pytestmark = pytest.mark.skipif(not VLLM_PYTHON.exists(), reason="no vLLM here: make test installs it")


@pytest.fixture(scope="module")
def vllm_home(tmp_path_factory, demo_model_dir):
    """A data folder with a demo run trained on the 2-head demo model, and its model server on vLLM."""
    home = tmp_path_factory.mktemp("vllm-home")
    link_demo_model(home, demo_model_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(demo.MODEL_SHAPE, "num_attention_heads", 2)
        patch.setitem(demo.MODEL_SHAPE, "num_key_value_heads", 2)
        model = demo.build_demo_model(home / "models" / "demo-2-heads")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(home))
        run = run_training(presets.demo_config(model=str(model)))
        patch.setenv("WORKBENCH_SERVE_ENGINE", "vllm")
        patch.setenv("WORKBENCH_VLLM_PYTHON", str(VLLM_PYTHON))
        yield run.run_id, str(model)
        stop_model_server(home)


@pytest.fixture
def api(vllm_home):
    server = process.ensure_server()
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.key, max_retries=0, timeout=600)


def heldout(count: int) -> list[tuple[list[dict], str]]:
    rows = [json.loads(line)["messages"] for line in DEMO_HELDOUT_FILE.read_text().splitlines()[:count]]
    return [(row[:-1], row[-1]["content"]) for row in rows]


def test_the_openai_client_streams_the_tuned_answer_from_vllm(api, vllm_home):
    run_id, base = vllm_home
    assert [model.id for model in api.models.list().data][-1] == run_id
    [(messages, expected)] = heldout(1)
    stream = api.chat.completions.create(model=run_id, messages=messages, max_tokens=16, stream=True)
    chunks = list(stream)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks).strip() == expected
    assert chunks[-1].choices[0].finish_reason == "stop"
    health = workbench_client.health(process.running_server())
    assert health["engine"] == "vllm"
    assert [(entry["model"], entry["adapters"]) for entry in health["loaded"]] == [(base, [run_id])]


def test_vllm_answers_token_for_token_as_the_transformers_engine_alone_and_side_by_side(api, vllm_home):
    run_id, base = vllm_home
    engine = TransformersEngine()
    conversations = heldout(3)
    for model in (base, run_id):
        for messages, _ in conversations:
            with engine.reply(catalogue.find(model), messages, None, Sampling(max_tokens=16)) as reply:
                expected = "".join(reply)
            answer = api.chat.completions.create(model=model, messages=messages, max_tokens=16).choices[0]
            assert answer.message.content == expected, (model, messages)
    asked = [{"model": base, "messages": conversations[0][0]}, {"model": run_id, "messages": conversations[1][0]}]
    together = {0: "", 1: ""}
    for index, piece, error in workbench_client.stream_side_by_side(process.running_server(), asked, max_tokens=16):
        assert error is None
        together[index] += piece
    alone = [api.chat.completions.create(model=a["model"], messages=a["messages"], max_tokens=16) for a in asked]
    assert [together[0], together[1]] == [reply.choices[0].message.content for reply in alone]
    assert together[1].strip() == conversations[1][1]


def test_the_answer_loss_through_vllm_is_the_transformers_engines(api, vllm_home):
    run_id, _ = vllm_home
    [(messages, expected)] = heldout(1)
    engine = TransformersEngine()
    for answer, tolerance in ((expected, {"abs": 1e-4}), ("a wrong answer entirely", {"rel": 1e-3})):
        scored = [*messages, {"role": "assistant", "content": answer}]
        tokens, loss = workbench_client.answer_loss(process.running_server(), run_id, scored)
        same_tokens, same_loss = engine.answer_loss(catalogue.find(run_id), scored, None)
        assert tokens == same_tokens and loss == pytest.approx(same_loss, **tolerance), answer


def test_a_killed_model_server_takes_its_vllm_with_it(api, vllm_home):
    run_id, _ = vllm_home
    api.chat.completions.create(model=run_id, messages=heldout(1)[0][0], max_tokens=4)
    server = process.running_server()
    [loaded] = workbench_client.health(server)["loaded"]
    os.kill(server.pid, signal.SIGKILL)
    wait_for(lambda: not _alive(loaded["pid"]), timeout=90, interval=0.5, what="vLLM to stop with its model server")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
