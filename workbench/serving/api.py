"""The model server's HTTP surface, compatible with the OpenAI API: ``GET /v1/models``, ``POST /v1/chat/completions``
(streamed as server-sent events or whole), and ``GET /health``. Two extensions: ``POST /v1/answer_loss`` takes a
chat request whose last message is an answer and returns that answer's mean token loss under the model;
``POST /v1/side_by_side`` streams several models' answers to their own conversations (the Playground's columns),
those on one base from one batched call.

Every request carries the server's key (``Authorization: Bearer KEY``; ``workbench serve --show-key`` prints it) or,
in team mode, a user's own API token (``workbench tokens create``), which sees only the runs that user may see.
Errors come back in the OpenAI shape, ``{"error": {"message", "type", "code"}}``, with the workbench's sentence.
"""

import hmac
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from workbench.errors import UserError
from workbench.serving import catalogue
from workbench.serving.engine import Answer, Engine, engine_name
from workbench.serving.requests import ChatRequest, parse_chat_request, parse_side_by_side
from workbench.serving.streaming import Sampling
from workbench.team import tokens
from workbench.team.identity import Actor


def create_app(engine: Engine, key: str) -> Starlette:
    """The API over ``engine``, answering only requests that carry ``key``."""

    async def models(request: Request) -> Response:
        listed = await run_in_threadpool(catalogue.served_models, _actor(request))
        data = [_model_entry(served) for served in listed]
        return JSONResponse({"object": "list", "data": data})

    async def chat(request: Request) -> Response:
        try:
            wanted = parse_chat_request(await request.body())
            served = await run_in_threadpool(catalogue.find, wanted.model, _actor(request))
        except UserError as error:
            code = 404 if "GET /v1/models" in str(error) else 400
            return error_response(code, str(error), "model_not_found" if code == 404 else "invalid_request")
        if wanted.stream:
            return StreamingResponse(_closing(_events(engine, served, wanted)), media_type="text/event-stream")
        try:
            return JSONResponse(await run_in_threadpool(_completion, engine, served, wanted))
        except UserError as error:
            return error_response(400, str(error), "model_not_usable")

    async def answer_loss(request: Request) -> Response:
        try:
            wanted = parse_chat_request(await request.body())
            served = await run_in_threadpool(catalogue.find, wanted.model, _actor(request))
            tokens, loss = await run_in_threadpool(_answer_loss, engine, served, wanted)
        except UserError as error:
            code = 404 if "GET /v1/models" in str(error) else 400
            return error_response(code, str(error), "model_not_found" if code == 404 else "invalid_request")
        return JSONResponse({"object": "answer_loss", "model": served.id, "tokens": tokens, "loss": loss})

    async def side_by_side(request: Request) -> Response:
        try:
            wanted = parse_side_by_side(await request.body())
            actor = _actor(request)
            asks = [
                (await run_in_threadpool(catalogue.find, model, actor), messages, reasoning)
                for model, messages, reasoning in wanted.answers
            ]
        except UserError as error:
            code = 404 if "GET /v1/models" in str(error) else 400
            return error_response(code, str(error), "model_not_found" if code == 404 else "invalid_request")
        events = _side_by_side_events(engine, asks, wanted.sampling)
        return StreamingResponse(_closing(events), media_type="text/event-stream")

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "engine": engine_name(), "loaded": engine.describe()})

    app = Starlette(
        routes=[
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/answer_loss", answer_loss, methods=["POST"]),
            Route("/v1/side_by_side", side_by_side, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
    return _KeyCheck(app, key)


def _actor(request: Request) -> Actor | None:
    """Who the request acts for: a user (through their token), or None for the server's own key (every run)."""
    return request.scope.get("state", {}).get("actor")


class _KeyCheck:
    """ASGI middleware: a request without the server's key or a user's token gets 401 and never reaches a route."""

    def __init__(self, app: Any, key: str) -> None:
        self.app, self.key = app, key

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            allowed, actor = await run_in_threadpool(self._caller, scope)
            if not allowed:
                message = (
                    "This model server needs its key: send 'Authorization: Bearer KEY' with your own API token "
                    "(the Account page, or workbench tokens create) or the server's key (workbench serve --show-key)."
                )
                await error_response(401, message, "invalid_api_key")(scope, receive, send)
                return
            scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)

    def _caller(self, scope: dict) -> tuple[bool, Actor | None]:
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"").decode("latin-1")
        if hmac.compare_digest(given.encode(), f"Bearer {self.key}".encode()):
            return True, None
        actor = tokens.actor_for(given.removeprefix("Bearer ")) if given.startswith("Bearer ") else None
        return actor is not None, actor


def error_response(status: int, message: str, code: str) -> JSONResponse:
    kind = "authentication_error" if status == 401 else "invalid_request_error"
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status)


def _model_entry(served: catalogue.Served) -> dict[str, Any]:
    kind = "base model" if served.run is None else "trained run"
    return {"id": served.id, "object": "model", "created": served.created, "owned_by": served.owner or kind}


def _completion(engine: Engine, served: catalogue.Served, wanted: ChatRequest) -> dict[str, Any]:
    for _ in engine.wait_for_gpu(served):
        pass
    with engine.reply(served, wanted.messages, wanted.reasoning, wanted.sampling) as reply:
        text = "".join(reply)
    return {
        **_envelope("chat.completion", served.id),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": _usage(reply),
    }


def _answer_loss(engine: Engine, served: catalogue.Served, wanted: ChatRequest) -> tuple[int, float]:
    for _ in engine.wait_for_gpu(served):
        pass
    return engine.answer_loss(served, wanted.messages, wanted.reasoning)


def _usage(reply: Answer) -> dict[str, int]:
    total = reply.prompt_tokens + reply.completion_tokens
    return {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens, "total_tokens": total}


def _events(engine: Engine, served: catalogue.Served, wanted: ChatRequest) -> Iterator[str]:
    """The reply as server-sent events: a role chunk, a chunk per piece, a chunk with the finish reason, [DONE].
    While the GPU has no room, a comment line every few seconds says so; a model that cannot be used gives one error
    event."""
    envelope = _envelope("chat.completion.chunk", served.id)

    def chunk(delta: dict[str, str], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return f"data: {json.dumps({**envelope, 'choices': [choice]})}\n\n"

    try:
        for waiting in engine.wait_for_gpu(served):
            yield f": {waiting}\n\n"  # an SSE comment: clients that do not know it skip it
        with engine.reply(served, wanted.messages, wanted.reasoning, wanted.sampling) as reply:
            yield chunk({"role": "assistant", "content": ""})
            for piece in reply:
                yield chunk({"content": piece})
        yield chunk({}, reply.finish_reason)
        if wanted.include_usage:
            yield f"data: {json.dumps({**envelope, 'choices': [], 'usage': _usage(reply)})}\n\n"
    except UserError as error:
        yield f"data: {json.dumps({'error': {'message': str(error), 'code': 'model_not_usable'}})}\n\n"
    yield "data: [DONE]\n\n"


def _side_by_side_events(engine: Engine, asks: list, how: Sampling) -> Iterator[str]:
    """Each answer's pieces as server-sent events, ``{"index", "delta"}``, then ``{"index", "finish_reason"}``;
    ``{"index", "error"}`` for an answer that could not be given; a comment while the GPU has no room; [DONE]."""
    for event in engine.answers(asks, how):
        if event.waiting:
            yield f": {event.waiting}\n\n"
            continue
        fields = {"finish_reason": event.finish_reason} if event.finish_reason else {"delta": event.text}
        if event.error:
            fields = {"error": {"message": event.error, "code": "model_not_usable"}}
        yield f"data: {json.dumps({'index': event.index, **fields})}\n\n"
    yield "data: [DONE]\n\n"


async def _closing(events: Iterator[str]) -> AsyncIterator[str]:
    """``events`` stepped in worker threads and closed when the response ends, however it ends: a caller that goes
    away mid-reply must not leave its generation holding the store (the next request would wait for ever)."""
    turn = threading.Lock()  # close() waits for a step still running in its thread

    def step() -> str | None:
        with turn:
            return next(events, None)

    def close() -> None:
        with turn:
            events.close()

    try:
        while (event := await run_in_threadpool(step)) is not None:
            yield event
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(close)


def _envelope(kind: str, model: str) -> dict[str, Any]:
    return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": kind, "created": int(time.time()), "model": model}
