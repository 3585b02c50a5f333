"""Tests for workbench.serving.requests: an OpenAI chat request is read with every field checked and bounded."""

import json

import pytest

from workbench.errors import UserError
from workbench.serving.requests import parse_chat_request
from workbench.serving.streaming import Sampling


def body(**fields) -> bytes:
    return json.dumps({"model": "demo", "messages": [{"role": "user", "content": "hi"}], **fields}).encode()


def test_a_full_request_is_read_into_the_sampling_settings():
    request = parse_chat_request(
        body(stream=True, max_tokens=12, temperature=0.7, top_p=0.9, seed=3, stop="\n", reasoning="keep")
    )
    assert (request.model, request.stream, request.reasoning) == ("demo", True, "keep")
    assert request.sampling == Sampling(max_tokens=12, temperature=0.7, top_p=0.9, seed=3, stop=("\n",))


def test_defaults_and_the_list_form_of_content():
    content = [{"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}]
    request = parse_chat_request(
        json.dumps({"model": "m", "messages": [{"role": "user", "content": content}]}).encode()
    )
    assert request.messages == [{"role": "user", "content": "hello"}]
    assert (request.sampling, request.stream) == (Sampling(), False)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"{nope", "not JSON"),
        (json.dumps([1]).encode(), "JSON object"),
        (json.dumps({"messages": []}).encode(), "'model'"),
        (json.dumps({"model": "m", "messages": []}).encode(), "non-empty list"),
        (json.dumps({"model": "m", "messages": [{"role": "robot", "content": "x"}]}).encode(), "Message 1"),
        (json.dumps({"model": "m", "messages": [{"role": "user", "content": 5}]}).encode(), "as text"),
        (body(max_tokens=0), "'max_tokens' must be a whole number from 1 to 4096"),
        (body(max_tokens=True), "'max_tokens'"),
        (body(temperature=9), "'temperature'"),
        (body(stop=["a", "b", "c", "d", "e"]), "'stop'"),
        (body(reasoning="maybe"), "'reasoning'"),
        (b" " * 1_000_001, "larger than"),
    ],
)
def test_each_mistake_is_one_sentence_naming_the_field(raw, words):
    with pytest.raises(UserError, match=words.replace("(", r"\(")):
        parse_chat_request(raw)
