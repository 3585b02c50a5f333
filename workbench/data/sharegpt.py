"""ShareGPT conversations (``{"conversations": [{"from", "value"}...]}``, as LLaMA-Factory and many public
datasets store them) turned into OpenAI-style chat turns, function calls and observations included."""

import json
from typing import Any

from workbench.data.problems import Problem, problem
from workbench.data.turns import check_conversation, json_list, kind, tool_call, turn_content, with_tools


SHAREGPT_ROLES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "model": "assistant",
    "function_call": "function_call",
    "observation": "tool",
    "tool": "tool",
    "function": "tool",
}


def normalise_sharegpt_record(value: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    if "conversations" not in value:
        return None, problem("missing_messages", 'The record has no "conversations" list of chat turns.')
    raw, issue = json_list(value["conversations"], "conversations")
    if issue is not None:
        return None, issue
    turns: list[dict[str, Any]] = []
    system = value.get("system")
    if isinstance(system, str) and system.strip():
        turns.append({"role": "system", "content": system})
    for index, item in enumerate(raw, start=1):
        turn, issue = sharegpt_turn(item, index)
        if issue is not None:
            return None, issue
        turns.append(turn)
    issue = check_conversation(turns)
    if issue is not None:
        return None, issue
    return with_tools({"messages": turns}, value.get("tools"))


def sharegpt_turn(item: Any, index: int) -> tuple[dict[str, Any], Problem | None]:
    """One ShareGPT turn ({"from", "value"}, or {"role", "content"}) as an OpenAI-style turn."""
    if not isinstance(item, dict):
        return {}, problem("malformed_messages", f'Turn {index} is not an object with "from" and "value".')
    speaker = item.get("from", item.get("role"))
    if speaker is None:
        return {}, problem("malformed_messages", f'Turn {index} has no "from" field saying who speaks.')
    role = SHAREGPT_ROLES.get(speaker) if isinstance(speaker, str) else None
    if role is None:
        known = "human, gpt, system, function_call, observation"
        shown = repr(speaker) if isinstance(speaker, str) else kind(speaker)
        return {}, problem("unknown_role", f"Turn {index} is from {shown}; use one of {known}.")
    content_field = "value" if "value" in item else "content"
    if role == "function_call":
        return _sharegpt_call(item.get(content_field), index)
    content, issue = turn_content({"content": item.get(content_field)}, role, index)
    return {"role": role, "content": content}, issue


def _sharegpt_call(value: Any, index: int) -> tuple[dict[str, Any], Problem | None]:
    try:
        function = json.loads(value) if isinstance(value, str) else value
    except (ValueError, RecursionError):
        function = None
    if not isinstance(function, dict):
        message = f'Turn {index} (function_call) is not JSON like {{"name": ..., "arguments": {{...}}}}.'
        return {}, problem("bad_tool_call", message)
    call, issue = tool_call(function, index)
    return {"role": "assistant", "content": "", "tool_calls": [call]}, issue
