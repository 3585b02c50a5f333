"""Talking to the model server from the pages and scripts: list what it serves and stream a chat reply, over its
OpenAI-compatible HTTP API (standard library only: the web process needs no model libraries for this)."""

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from workbench.errors import UserError
from workbench.serving import process


REPLY_TIMEOUT_S = 600.0  # a first request may wait for the model to load


class ServerGone(UserError):
    """The server could not be reached (it stopped or was killed); the next request starts it again."""


def list_models(address: process.Address) -> list[str]:
    return [entry["id"] for entry in _call(address, "GET", "/v1/models")["data"]]


def stream_chat(
    address: process.Address,
    model: str,
    messages: list[dict[str, str]],
    on_wait: Callable[[str], None] = lambda message: None,
    on_finish: Callable[[str], None] = lambda reason: None,
    **sampling: Any,
) -> Iterator[str]:
    """The reply's pieces as the server generates them; ``on_wait`` hears why it waits (the GPU is busy with
    training), ``on_finish`` why the reply ended ("stop": the model ended it, "length": the token limit did); a
    UserError with the server's sentence when it refuses."""
    body = {"model": model, "messages": messages, "stream": True, **sampling}
    with _open(address, "POST", "/v1/chat/completions", body) as response:
        for event in _events(response, on_wait):
            if "error" in event:
                raise UserError(event["error"]["message"])
            choice = event["choices"][0] if event.get("choices") else {}
            if choice.get("finish_reason"):
                on_finish(choice["finish_reason"])
            piece = choice.get("delta", {}).get("content")
            if piece:
                yield piece


def stream_side_by_side(
    address: process.Address,
    answers: list[dict[str, Any]],
    on_wait: Callable[[str], None] = lambda message: None,
    **sampling: Any,
) -> Iterator[tuple[int, str, str | None]]:
    """Several answers at once (each ``{"model", "messages", "reasoning"?}``): ``(index, piece, None)`` as pieces
    come, ``(index, "", sentence)`` for an answer the server could not give (the others go on)."""
    body = {"answers": answers, **sampling}
    with _open(address, "POST", "/v1/side_by_side", body) as response:
        for event in _events(response, on_wait):
            if "error" in event:
                yield event["index"], "", event["error"]["message"]
            elif event.get("delta"):
                yield event["index"], event["delta"], None


def _events(response: Any, on_wait: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    """The server-sent events of ``response`` as JSON objects; its comment lines (why it waits) go to ``on_wait``."""
    for raw in response:
        line = raw.decode("utf-8").strip()
        if line.startswith(": "):
            on_wait(line.removeprefix(": "))
        if line.startswith("data: ") and line != "data: [DONE]":
            yield json.loads(line.removeprefix("data: "))


def answer_loss(
    address: process.Address, model: str, messages: list[dict[str, str]], **extra: Any
) -> tuple[int, float]:
    """(answer tokens, mean loss per token) of the last message of ``messages``, an answer, under ``model``."""
    scored = _call(address, "POST", "/v1/answer_loss", {"model": model, "messages": messages, **extra})
    return int(scored["tokens"]), float(scored["loss"])


def health(address: process.Address) -> dict[str, Any]:
    return _call(address, "GET", "/health")


def _call(address: process.Address, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
    with _open(address, method, path, body) as response:
        return json.loads(response.read())


def _open(address: process.Address, method: str, path: str, body: dict | None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(address.url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {address.key}")
    request.add_header("Content-Type", "application/json")
    try:
        return urllib.request.urlopen(request, timeout=REPLY_TIMEOUT_S)
    except urllib.error.HTTPError as error:
        raise UserError(_message(error)) from None
    except (urllib.error.URLError, ConnectionError) as error:
        raise ServerGone("The model server stopped; it is started again with your next message.") from error


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return json.loads(error.read())["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"The model server answered {error.code} {error.reason}."
