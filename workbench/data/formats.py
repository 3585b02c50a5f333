"""Dataset formats: recognising each record's layout and turning it into chat ``messages`` the trainer can use.

Supported layouts (the ``format`` names the page and the CLI report):

* ``messages``: OpenAI chat, ``{"messages": [{"role", "content"}...]}`` with system/user/assistant/tool roles,
  optional per-message ``weight`` (0 or 1, assistant turns only), ``tool_calls`` and top-level ``tools``.
* ``sharegpt``: ``{"conversations": [{"from", "value"}...]}`` with human/gpt/system/function_call/observation
  turns, optional top-level ``system`` and ``tools``.
* ``alpaca``: ``instruction``, optional ``input``, ``output``, optional ``system`` and ``history``.
* ``prompt_completion``: ``prompt`` and ``completion`` (text, or lists of messages as TRL accepts them).
* ``text``: plain ``text`` for continued pre-training.

Every layout except ``text`` becomes ``{"messages": [{"role", "content"}, ...]}``; ``text`` rows stay
``{"text": ...}``. Assistant turns that call tools also carry ``tool_calls`` (OpenAI shape, ``arguments`` as JSON
text) and a row with tool schemas carries ``tools`` as JSON text, which TRL's SFTTrainer parses back. Keeping both as
text gives every row the same Arrow types, so ``datasets.Dataset.from_list`` accepts rows with different tools.
When no layout fits (say a CSV with ``question``/``answer`` columns), a ``workbench.data.mapping.ColumnMapping``
says which field is which. ShareGPT's own turn shapes are read in ``workbench.data.sharegpt``.
"""

from collections import Counter
from typing import Any

from workbench.data.problems import Problem, problem
from workbench.data.sharegpt import normalise_sharegpt_record
from workbench.data.turns import (
    is_blank,
    json_list,
    kind,
    normalise_messages,
    with_tools,
)


FORMAT_LABELS = {
    "messages": "OpenAI chat messages",
    "sharegpt": "ShareGPT conversations",
    "alpaca": "Alpaca instructions",
    "prompt_completion": "prompt and completion",
    "text": "plain text",
}
# The fields that make a record one layout or another; the first match wins.
REQUIRED = {
    "messages": ("messages",),
    "sharegpt": ("conversations",),
    "alpaca": ("instruction", "output"),
    "prompt_completion": ("prompt", "completion"),
    "text": ("text",),
}
# A record with any of these fields but not all required ones is probably meant to be that layout.
HINTS = {
    "messages": ("messages",),
    "sharegpt": ("conversations",),
    "alpaca": ("instruction", "output", "history"),
    "prompt_completion": ("prompt", "completion"),
    "text": ("text",),
}


def classify(value: Any) -> str | None:
    """The layout whose required fields the record has, or None."""
    if not isinstance(value, dict):
        return None
    if "messages" in value:  # the most common layout, answered without the loop below
        return "messages"
    for name, fields in REQUIRED.items():
        if all(key in value for key in fields):
            return name
    return None


def hinted(value: Any) -> str | None:
    """The layout a record seems meant to be from any of its fields, even when required ones are missing."""
    if not isinstance(value, dict):
        return None
    for name, fields in HINTS.items():
        if any(key in value for key in fields):
            return name
    return None


def detect_format(values: list[Any]) -> str | None:
    """The most common layout among the records (ties go to the first seen); None when no record has one."""
    counts = Counter(name for name in map(classify, values) if name)
    if not counts:
        counts = Counter(name for name in map(hinted, values) if name)
    return counts.most_common(1)[0][0] if counts else None


def field_names(values: list[Any], limit: int = 1000) -> list[str]:
    """The field names of the first records, in order of first appearance (for the column mapping form)."""
    names: dict[str, None] = {}
    for value in values[:limit]:
        if isinstance(value, dict):
            names.update(dict.fromkeys(str(key) for key in value))
    return list(names)


def normalise(value: Any, fmt: str, row: int, line: int | None) -> tuple[dict[str, Any] | None, Problem | None]:
    """The record as a training row in the file's layout ``fmt``, or the first problem that stops it."""
    if not isinstance(value, dict):
        return None, _at(problem("not_object", _not_object_message(fmt, value)), row, line)
    own = classify(value)
    if own is not None and own != fmt:
        message = (
            f"This record is in the {FORMAT_LABELS[own]} layout but the file is {FORMAT_LABELS[fmt]}; "
            "keep one layout per file."
        )
        return None, _at(problem("mixed_schema", message), row, line)
    try:
        result, issue = NORMALISERS[fmt](value)
    except RecursionError:
        result, issue = None, problem("malformed_messages", "The record is nested too deeply to read.")
    if issue is not None:
        return None, _at(issue, row, line)
    return result, None


def _at(issue: Problem, row: int, line: int | None) -> Problem:
    issue.row, issue.line = row, line
    return issue


def _not_object_message(fmt: str, value: Any) -> str:
    example = {
        "messages": '{"messages": [...]}',
        "sharegpt": '{"conversations": [...]}',
        "alpaca": '{"instruction": "...", "output": "..."}',
        "prompt_completion": '{"prompt": "...", "completion": "..."}',
        "text": '{"text": "..."}',
    }[fmt]
    return f"Each record must be a JSON object like {example}, not {kind(value)}."


# --- OpenAI messages -------------------------------------------------------------------------------------------


def normalise_messages_record(value: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    if "messages" not in value:
        return None, problem("missing_messages", 'The record has no "messages" list of chat turns.')
    messages, issue = json_list(value["messages"], "messages")
    if issue is not None:
        return None, issue
    turns, issue = normalise_messages(messages)
    if issue is not None:
        return None, issue
    return with_tools({"messages": turns}, value.get("tools"))


# --- Alpaca, prompt/completion, text ---------------------------------------------------------------------------


def normalise_alpaca_record(value: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    if "output" not in value:
        return None, problem("no_assistant", 'The record has no "output", so there is no answer to learn.')
    if "instruction" not in value:
        return None, problem("no_user", 'The record has no "instruction", so the answer replies to nothing.')
    instruction, issue = _text_field(value, "instruction", allow_empty=bool(_text(value.get("input"))))
    if issue is None:
        extra, issue = _text_field(value, "input", allow_empty=True, optional=True)
    if issue is None:
        output, issue = _text_field(value, "output")
    if issue is not None:
        return None, issue
    turns = _system_turn(value)
    history, issue = _history(value.get("history"))
    if issue is not None:
        return None, issue
    prompt = "\n".join(part for part in (instruction, extra) if part.strip())
    turns += history + [{"role": "user", "content": prompt}, {"role": "assistant", "content": output}]
    return {"messages": turns}, None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _text_field(
    value: dict[str, Any], name: str, allow_empty: bool = False, optional: bool = False
) -> tuple[str, Problem | None]:
    raw = value.get(name)
    if raw is None:
        if optional or allow_empty:
            return "", None
        return "", problem("missing_content", f'The "{name}" field is empty (null); fill it in or drop the record.')
    if not isinstance(raw, str):
        return "", problem("non_text_content", f'The "{name}" field is {kind(raw)}; it must be text.')
    if is_blank(raw) and not allow_empty:
        return "", problem("empty_content", f'The "{name}" field has no text; fill it in or drop the record.')
    return raw, None


def _system_turn(value: dict[str, Any]) -> list[dict[str, Any]]:
    system = value.get("system")
    return [{"role": "system", "content": system}] if isinstance(system, str) and system.strip() else []


def _history(history: Any) -> tuple[list[dict[str, Any]], Problem | None]:
    if history is None or history == []:
        return [], None
    message = 'The "history" field must be a list of [question, answer] pairs of text.'
    if not isinstance(history, list):
        return [], problem("malformed_messages", message)
    turns = []
    for pair in history:
        if not (
            isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(p, str) and p.strip() for p in pair)
        ):
            return [], problem("malformed_messages", message)
        turns += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    return turns, None


def normalise_prompt_completion_record(value: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    if "completion" not in value:
        return None, problem("no_assistant", 'The record has no "completion", so there is no answer to learn.')
    if "prompt" not in value:
        return None, problem("no_user", 'The record has no "prompt", so the answer replies to nothing.')
    prompt, completion = value["prompt"], value["completion"]
    if isinstance(prompt, list) or isinstance(completion, list):
        return _conversational_prompt_completion(value)
    turns = _system_turn(value)
    texts = []
    for name in ("prompt", "completion"):
        text, issue = _text_field(value, name)
        if issue is not None:
            return None, issue
        texts.append(text)
    turns += [{"role": "user", "content": texts[0]}, {"role": "assistant", "content": texts[1]}]
    return {"messages": turns}, None


def _conversational_prompt_completion(value: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    prompt = value["prompt"] if isinstance(value["prompt"], list) else [{"role": "user", "content": value["prompt"]}]
    completion = value["completion"]
    if not isinstance(completion, list):
        completion = [{"role": "assistant", "content": completion}]
    turns, issue = normalise_messages(_system_turn(value) + prompt + completion)
    return (None, issue) if issue is not None else with_tools({"messages": turns}, value.get("tools"))


def normalise_text_record(value: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    text, issue = _text_field(value, "text")
    return (None, issue) if issue is not None else ({"text": text}, None)


NORMALISERS = {
    "messages": normalise_messages_record,
    "sharegpt": normalise_sharegpt_record,
    "alpaca": normalise_alpaca_record,
    "prompt_completion": normalise_prompt_completion_record,
    "text": normalise_text_record,
}


def row_texts(row: dict[str, Any]) -> list[str]:
    """The texts of a training row (every turn's content, or the plain text)."""
    if "text" in row:
        return [row["text"]]
    return [turn["content"] for turn in row["messages"]]
