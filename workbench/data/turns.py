"""Chat turns: checking OpenAI-style turns (role, content, weight, tool calls) and the order of roles.

Every chat layout ends up here once it is in OpenAI shape (``workbench.formats`` converts ShareGPT, Alpaca and
prompt/completion first), so the same rules and the same plain sentences apply to all of them: known roles, text
content, weights of 0 or 1 on assistant turns only, well-formed tool calls, and a conversation that starts with the
user (after any system turns), alternates, answers every tool call, and ends with the assistant.
"""

import json
import re
from typing import Any

from workbench.data.problems import Problem, problem


ROLES = ("system", "user", "assistant", "tool")
SIMPLE_ROLES = frozenset(("system", "user", "assistant"))
ROLE_ALIASES = {"developer": "system", "function": "tool"}


NON_SPACE = re.compile(r"\S")


def is_blank(text: str) -> bool:
    """True for text of spaces alone (without copying it, as ``strip`` would)."""
    return NON_SPACE.search(text) is None


def kind(value: Any) -> str:
    """What a JSON value is, in words: 'a list', 'text', 'a number'..."""
    kinds = {list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number", dict: "an object"}
    return "null" if value is None else kinds.get(type(value), "a value")


def json_list(raw: Any, name: str) -> tuple[list[Any], Problem | None]:
    """A list field, also when a CSV or Parquet cell holds it as JSON text."""
    if isinstance(raw, str) and raw.strip().startswith("["):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return [], problem("malformed_messages", f'The "{name}" text is not a valid JSON list.')
    if not isinstance(raw, list):
        example = '[{"role": "user", "content": "..."}, ...]' if name == "messages" else '[{"from": "human", ...}]'
        return [], problem("malformed_messages", f'The "{name}" field must be a list of chat turns like {example}.')
    if not raw:
        return [], problem("malformed_messages", f'The "{name}" list is empty; it needs the chat turns.')
    return raw, None


def normalise_messages(messages: list[Any]) -> tuple[list[dict[str, Any]], Problem | None]:
    """Check OpenAI-style turns one by one and the conversation as a whole; returns the cleaned turns."""
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(messages, start=1):
        if type(message) is dict and len(message) == 2:  # fast path: already {"role", "content": "text"}
            role, content = message.get("role"), message.get("content")
            if (
                type(role) is str
                and role in SIMPLE_ROLES
                and type(content) is str
                and content
                and not content.isspace()
            ):
                turns.append(message)
                continue
        turn, issue = normalise_turn(message, index)
        if issue is not None:
            return [], issue
        turns.append(turn)
    return turns, check_conversation(turns)


def normalise_turn(message: Any, index: int) -> tuple[dict[str, Any], Problem | None]:
    """One OpenAI-style turn as {"role", "content"} (plus ``tool_calls``), or the problem with it."""
    if not isinstance(message, dict):
        return {}, problem("malformed_messages", f'Turn {index} is not an object with "role" and "content".')
    if "role" not in message:
        return {}, problem("malformed_messages", f'Turn {index} has no "role"; use one of {", ".join(ROLES)}.')
    raw_role = message["role"]
    role = ROLE_ALIASES.get(raw_role, raw_role) if isinstance(raw_role, str) else raw_role
    if role not in ROLES:
        shown = repr(raw_role) if isinstance(raw_role, str) else kind(raw_role)
        return {}, problem("unknown_role", f"Turn {index} has the role {shown}; use one of {', '.join(ROLES)}.")
    issue = _check_weight(message, role, index)
    if issue is not None:
        return {}, issue
    calls, issue = _tool_calls(message, role, index)
    if issue is not None:
        return {}, issue
    content, issue = turn_content(message, role, index, allow_empty=bool(calls))
    if issue is not None:
        return {}, issue
    return (
        {"role": role, "content": content, "tool_calls": calls} if calls else {"role": role, "content": content}
    ), None


def turn_content(
    message: dict[str, Any], role: str, index: int, allow_empty: bool = False
) -> tuple[str, Problem | None]:
    """The text of a turn: a string, or the text parts of a content list."""
    content = message.get("content")
    if content is None:
        if allow_empty:
            return "", None
        return "", problem("missing_content", f'Turn {index} ({role}) has no "content"; add the text of that turn.')
    if isinstance(content, list):
        content, issue = _join_parts(content, role, index)
        if issue is not None:
            return "", issue
    if not isinstance(content, str):
        return "", problem(
            "non_text_content", f"Turn {index} ({role}) has {kind(content)} as content; it must be text."
        )
    if is_blank(content) and not allow_empty:
        return "", problem(
            "empty_content", f"Turn {index} ({role}) has no text; write the message or remove the turn."
        )
    return content, None


def _join_parts(parts: list[Any], role: str, index: int) -> tuple[str, Problem | None]:
    texts = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            kind_of = f"a part of type {str(part.get('type'))[:40]!r}" if isinstance(part, dict) else None
            what = kind_of or f"{kind(part)} as a part"
            message = f"Turn {index} ({role}) has {what}; only text parts can be trained here."
            return "", problem("non_text_content", message)
    return "".join(texts), None


def _check_weight(message: dict[str, Any], role: str, index: int) -> Problem | None:
    if "weight" not in message:
        return None
    weight = message["weight"]
    if role != "assistant":
        return problem("bad_weight", f'Turn {index} ({role}) has a "weight"; only assistant turns can have one.')
    if isinstance(weight, bool) or weight not in (0, 1):
        return problem("bad_weight", f"Turn {index} has the weight {weight!r}; a weight must be 0 or 1.")
    return None


def _tool_calls(message: dict[str, Any], role: str, index: int) -> tuple[list[dict[str, Any]], Problem | None]:
    raw = message.get("tool_calls")
    if raw is None and isinstance(message.get("function_call"), dict):
        raw = [{"type": "function", "function": message["function_call"]}]
    if raw is None or raw == []:
        return [], None
    if role != "assistant":
        return [], problem("bad_tool_call", f"Turn {index} ({role}) calls a tool; only assistant turns can.")
    if not isinstance(raw, list):
        return [], problem("bad_tool_call", f'Turn {index} has "tool_calls" that is not a list of calls.')
    calls = []
    for call in raw:
        function = call.get("function") if isinstance(call, dict) else None
        normalised, issue = tool_call(function, index)
        if issue is not None:
            return [], issue
        calls.append(normalised)
    return calls, None


def tool_call(function: Any, index: int) -> tuple[dict[str, Any], Problem | None]:
    """A call as {"type": "function", "function": {"name", "arguments": {...}}}; arguments become an object."""
    if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"].strip():
        message = (
            f'Turn {index} has a tool call without a "function" name; write it as {{"name": ..., "arguments": ...}}.'
        )
        return {}, problem("bad_tool_call", message)
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except (ValueError, RecursionError):
            arguments = None
    if not isinstance(arguments, dict):
        message = f"Turn {index} calls the tool {function['name']!r} with arguments that are not a JSON object."
        return {}, problem("bad_tool_call", message)
    arguments_text = json.dumps(arguments, ensure_ascii=False)  # text, so every row has the same Arrow type
    return {"type": "function", "function": {"name": function["name"], "arguments": arguments_text}}, None


def with_tools(row: dict[str, Any], tools: Any) -> tuple[dict[str, Any] | None, Problem | None]:
    if tools is None or tools == "" or tools == []:
        return row, None
    if isinstance(tools, str):
        try:
            tools = json.loads(tools)
        except (ValueError, RecursionError):
            tools = None
    if not isinstance(tools, list) or not all(isinstance(tool, dict) for tool in tools):
        message = 'The "tools" field is not a JSON list of tool descriptions; fix it or remove it.'
        return None, problem("bad_tools", message)
    return {**row, "tools": json.dumps(tools, ensure_ascii=False)}, None  # JSON text: TRL parses it back


def check_conversation(turns: list[dict[str, Any]]) -> Problem | None:
    """The first problem with the order of roles, or None when the conversation can be trained."""
    shape = tuple([turn["role"] if len(turn) == 2 else turn["role"] + "+calls" for turn in turns])
    if shape in _GOOD_SHAPES:
        return None
    issue = _check_shape(turns)
    if issue is None and len(_GOOD_SHAPES) < 10_000:
        _GOOD_SHAPES.add(shape)
    return issue


_GOOD_SHAPES: set[tuple[str, ...]] = (
    set()
)  # role sequences already known to be fine (the check depends on nothing else)


def _check_shape(turns: list[dict[str, Any]]) -> Problem | None:
    roles = [turn["role"] for turn in turns]
    if "assistant" not in roles:
        return problem("no_assistant", "The conversation has no assistant turn, so there is nothing to learn.")
    if "user" not in roles:
        return problem("no_user", "The conversation has no user turn, so the answer replies to nothing.")
    message = _order_message(turns)
    if message:
        return problem("role_order", message)
    if roles[-1] != "assistant":
        message = (
            f"The conversation ends with a {roles[-1]} turn that gets no answer; end it with the assistant's "
            "reply or remove the last turn."
        )
        return problem("last_not_assistant", message)
    return None


def _order_message(turns: list[dict[str, Any]]) -> str:
    """A sentence about the first turn out of order, or "" (one pass over the turns)."""
    started = seen_user = False
    before: dict[str, Any] | None = None
    for index, turn in enumerate(turns, start=1):
        role = turn["role"]
        calls = before is not None and "tool_calls" in before
        if role == "system" and started:
            return f"Turn {index} is a system message after the conversation started; put system messages first."
        if role == "assistant" and not seen_user:
            return f"Turn {index} is an assistant turn before any user turn; start the conversation with the user."
        if calls and role != "tool":
            return f"Turn {index - 1} calls a tool, so turn {index} must be the tool's result (role tool)."
        if role == "tool" and not (calls or (before is not None and before["role"] == "tool")):
            return f"Turn {index} is a tool result that does not follow an assistant's tool call."
        if before is not None and role == before["role"] and role in ("user", "assistant"):
            return f"Turns {index - 1} and {index} are both {role} turns; merge them or add the reply between them."
        started, seen_user, before = started or role != "system", seen_user or role == "user", turn
    return ""


def zero_weight_turns(value: Any) -> int:
    """How many assistant turns of an OpenAI-style record have weight 0 (the trainer cannot skip them)."""
    messages = value.get("messages") if isinstance(value, dict) else None
    if not isinstance(messages, list):
        return 0
    return sum(1 for m in messages if isinstance(m, dict) and m.get("weight") == 0 and m.get("weight") is not False)
