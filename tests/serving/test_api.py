"""Tests for workbench.serving.api through a real model server process, with the official ``openai`` client as a
user's script would use it: the listed models, a streamed and a whole tuned answer, stop strings, and the errors."""

import json

import openai
import pytest

from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.serving import process


@pytest.fixture
def client(trained_home):
    server = process.ensure_server()
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.key, max_retries=0)


def heldout(index: int = 0) -> tuple[list[dict], str]:
    row = json.loads(DEMO_HELDOUT_FILE.read_text().splitlines()[index])
    return row["messages"][:-1], row["messages"][-1]["content"]


def test_the_models_are_the_base_and_every_finished_run(client, trained_home):
    assert [model.id for model in client.models.list().data] == ["demo", trained_home.run_id]


def test_the_openai_client_streams_the_tuned_answer_and_gets_it_whole(client, trained_home):
    messages, expected = heldout()
    stream = client.chat.completions.create(
        model=trained_home.run_id,
        messages=messages,
        max_tokens=16,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks[:-1]).strip() == expected
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens >= 1
    whole = client.chat.completions.create(model=trained_home.run_id, messages=messages, max_tokens=16, seed=1)
    assert whole.choices[0].message.content.strip() == expected
    assert whole.usage.completion_tokens >= 1 and whole.usage.prompt_tokens > 10


def test_the_token_limit_and_a_stop_string_end_the_base_models_ramble(client):
    messages, _ = heldout()
    cut = client.chat.completions.create(model="demo", messages=messages, max_tokens=5)
    assert (cut.choices[0].finish_reason, cut.usage.completion_tokens) == ("length", 5)
    rambling = client.chat.completions.create(model="demo", messages=messages, max_tokens=40).choices[0]
    word = rambling.message.content.split()[1]
    stopped = client.chat.completions.create(model="demo", messages=messages, max_tokens=40, stop=[word]).choices[0]
    assert word not in stopped.message.content and rambling.message.content.startswith(stopped.message.content)
    assert stopped.finish_reason == "stop"


def test_unknown_models_bad_fields_and_a_wrong_key_get_the_openai_errors(client):
    with pytest.raises(openai.NotFoundError, match="GET /v1/models lists"):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="'temperature' must be"):
        client.chat.completions.create(model="demo", messages=[{"role": "user", "content": "hi"}], temperature=5)
    stranger = openai.OpenAI(base_url=str(client.base_url), api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="needs its key"):
        stranger.models.list()


def test_a_client_that_leaves_mid_reply_does_not_block_the_next(client, trained_home):
    import http.client
    from urllib.parse import urlparse

    server = process.running_server()
    address = urlparse(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    body = json.dumps({"model": "demo", "messages": heldout()[0], "max_tokens": 200, "stream": True})
    headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"}
    connection.request("POST", "/v1/chat/completions", body, headers)
    response = connection.getresponse()
    assert response.readline().startswith(b"data: ")  # the reply has begun...
    connection.close()  # ...and the caller goes away
    after = openai.OpenAI(base_url=str(client.base_url), api_key=server.key, max_retries=0, timeout=60)
    reply = after.chat.completions.create(model=trained_home.run_id, messages=heldout(1)[0], max_tokens=16)
    assert reply.choices[0].message.content.strip() == heldout(1)[1]


def test_a_users_token_sees_only_the_runs_that_user_may_see(client, trained_home):
    from workbench.team import access, tokens, users
    from workbench.team.identity import Actor

    admin = Actor("setup", "admin", "cli")
    if users.find("bob-api") is None:
        users.add(admin, "bob-api", None, "member", "oidc")
    bob = openai.OpenAI(base_url=str(client.base_url), api_key=tokens.create(Actor("bob-api"), "test"), max_retries=0)
    messages, expected = heldout()
    assert [model.id for model in bob.models.list().data] == ["demo"], "someone else's run is not listed"
    with pytest.raises(openai.NotFoundError):
        bob.chat.completions.create(model=trained_home.run_id, messages=messages, max_tokens=16)
    access.set_shared(admin, "run", trained_home.run_id, "", True)
    try:
        assert trained_home.run_id in [model.id for model in bob.models.list().data]
        answer = bob.chat.completions.create(model=trained_home.run_id, messages=messages, max_tokens=16)
        assert answer.choices[0].message.content.strip() == expected
    finally:
        access.set_shared(admin, "run", trained_home.run_id, "", False)


def test_the_answer_loss_of_a_reference_is_low_for_the_tuned_model_and_checked_like_a_chat(client, trained_home):
    from workbench.errors import UserError
    from workbench.serving import client as workbench_client

    messages, expected = heldout()
    address = process.ensure_server()
    scored = [*messages, {"role": "assistant", "content": expected}]
    tuned_tokens, tuned_loss = workbench_client.answer_loss(address, trained_home.run_id, scored)
    base_tokens, base_loss = workbench_client.answer_loss(address, "demo", scored)
    assert tuned_tokens == base_tokens >= 2, "the answer's tokens and its end-of-turn token"
    assert tuned_loss < 0.5 < base_loss
    wrong = [*messages, {"role": "assistant", "content": "a wrong answer entirely"}]
    assert workbench_client.answer_loss(address, trained_home.run_id, wrong)[1] > tuned_loss + 1
    too_long = [*messages, {"role": "assistant", "content": "Eat a banana! " * 200}]
    with pytest.raises(UserError, match="longer than the 256 tokens the model reads"):
        workbench_client.answer_loss(address, "demo", too_long)
    with pytest.raises(UserError, match="last message must be the assistant's answer"):
        workbench_client.answer_loss(address, "demo", messages)
    with pytest.raises(UserError, match="GET /v1/models lists"):
        workbench_client.answer_loss(address, "nope", scored)


def test_side_by_side_streams_each_models_answer_and_refuses_unknown_models_and_too_many(client, trained_home):
    from workbench.errors import UserError
    from workbench.serving import client as workbench_client

    messages, expected = heldout()
    address = process.ensure_server()
    asked = [{"model": "demo", "messages": messages}, {"model": trained_home.run_id, "messages": messages}]
    answers = {0: "", 1: ""}
    for index, piece, error in workbench_client.stream_side_by_side(address, asked, max_tokens=16):
        assert error is None
        answers[index] += piece
    assert answers[1].strip() == expected
    alone = client.chat.completions.create(model="demo", messages=messages, max_tokens=16).choices[0]
    assert answers[0] == alone.message.content
    with pytest.raises(UserError, match="GET /v1/models lists"):
        list(workbench_client.stream_side_by_side(address, [*asked, {"model": "nope", "messages": messages}]))
    with pytest.raises(UserError, match="'answers' must be a list of 1 to 4"):
        list(workbench_client.stream_side_by_side(address, asked * 3))
