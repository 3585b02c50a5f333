"""Reading an OpenAI chat completions request: every field checked and bounded, each mistake one sentence that says
what to send instead (returned to the caller as an ``invalid_request_error``)."""

import json
from dataclasses import dataclass
from typing import Any

from workbench.errors import UserError
from workbench.serving.streaming import Sampling


MAX_BODY_BYTES = 1_000_000
MAX_MESSAGES = 200
MAX_TOKENS = 4096
MAX_STOPS = 4
MAX_SIDES = 4  # side-by-side answers in one request: the base and three runs
ROLES = ("system", "user", "assistant")
REASONING = ("drop", "keep")


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, str]]
    sampling: Sampling
    stream: bool
    include_usage: bool  # stream_options.include_usage: a last chunk with the token counts
    reasoning: str | None  # a workbench extension: how a base model renders reasoning (the run's setting)


@dataclass(frozen=True)
class SideBySideRequest:
    """A workbench extension: several models, each with its own conversation, answering with the same sampling."""

    answers: list[tuple[str, list[dict[str, str]], str | None]]  # (model, messages, reasoning) per answer
    sampling: Sampling


def parse_chat_request(body: bytes) -> ChatRequest:
    """The request in ``body``, or a UserError naming the first field that is wrong."""
    fields = _fields(body, "with 'model' and 'messages'")
    return ChatRequest(
        model=_model(fields.get("model")),
        messages=_messages(fields.get("messages")),
        sampling=_sampling(fields),
        stream=fields.get("stream") is True,
        include_usage=isinstance(fields.get("stream_options"), dict)
        and fields["stream_options"].get("include_usage") is True,
        reasoning=_choice(fields, "reasoning", REASONING),
    )


def parse_side_by_side(body: bytes) -> SideBySideRequest:
    """``{"answers": [{"model", "messages", "reasoning"?}, ...], sampling fields}``, or a UserError."""
    fields = _fields(body, "with 'answers'")
    asked = fields.get("answers")
    if not isinstance(asked, list) or not 1 <= len(asked) <= MAX_SIDES or not all(isinstance(a, dict) for a in asked):
        raise UserError(f"'answers' must be a list of 1 to {MAX_SIDES} objects with 'model' and 'messages'.")
    answers = [
        (_model(one.get("model")), _messages(one.get("messages")), _choice(one, "reasoning", REASONING))
        for one in asked
    ]
    return SideBySideRequest(answers, _sampling(fields))


def _fields(body: bytes, needed: str) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise UserError(f"The request is larger than {MAX_BODY_BYTES // 1000} kB; send a shorter conversation.")
    try:
        fields = json.loads(body)
    except ValueError:
        raise UserError(f"The request body is not JSON; send a JSON object {needed}.") from None
    if not isinstance(fields, dict):
        raise UserError(f"The request body must be a JSON object {needed}.")
    return fields


def _model(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise UserError("'model' must name a model; GET /v1/models lists them.")
    return value


def _messages(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise UserError("'messages' must be a non-empty list of {'role', 'content'} objects.")
    if len(value) > MAX_MESSAGES:
        raise UserError(f"'messages' has {len(value)} messages; send at most {MAX_MESSAGES}.")
    messages = []
    for number, message in enumerate(value, start=1):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise UserError(f"Message {number} needs a 'role' of {', '.join(ROLES)}.")
        messages.append({"role": message["role"], "content": _content(message.get("content"), number)})
    return messages


def _content(value: Any, number: int) -> str:
    """A message's text; the list form (``[{'type': 'text', 'text': ...}]``) is joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, dict) and part.get("type") == "text" for part in value):
        return "".join(str(part.get("text", "")) for part in value)
    raise UserError(f"Message {number} needs its 'content' as text.")


def _sampling(fields: dict[str, Any]) -> Sampling:
    max_tokens = fields.get("max_completion_tokens", fields.get("max_tokens"))
    return Sampling(
        max_tokens=_number(max_tokens, "max_tokens", 1, MAX_TOKENS, 256, integer=True),
        temperature=_number(fields.get("temperature"), "temperature", 0.0, 2.0, 0.0),
        top_p=_number(fields.get("top_p"), "top_p", 0.0, 1.0, 1.0) or 1.0,
        repetition_penalty=_number(fields.get("repetition_penalty"), "repetition_penalty", 1.0, 2.0, 1.0),
        seed=_number(fields.get("seed"), "seed", 0, 2**31 - 1, None, integer=True),
        stop=_stops(fields.get("stop")),
    )


def _number(value: Any, name: str, low: float, high: float, default: Any, integer: bool = False) -> Any:
    if value is None:
        return default
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise UserError(f"'{name}' must be {kind} from {low} to {high}.")
    return value


def _stops(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or len(stops) > MAX_STOPS or not all(isinstance(s, str) and s for s in stops):
        raise UserError(f"'stop' must be a string or a list of at most {MAX_STOPS} non-empty strings.")
    return tuple(stops)


def _choice(fields: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = fields.get(name)
    if value is not None and value not in allowed:
        raise UserError(f"'{name}' must be one of {', '.join(allowed)}.")
    return value
