"""Tests for workbench.formats: each layout becomes the chat messages the trainer expects, and column mapping."""

import json

import pytest

from workbench.data import formats


def normalised(value: dict, fmt: str) -> dict:
    row, problem = formats.normalise(value, fmt, row=1, line=1)
    assert problem is None, problem
    return row


def test_openai_messages_with_tools_weights_parts_and_aliases():
    call = {"id": "c1", "type": "function", "function": {"name": "get_time", "arguments": '{"zone": "UTC"}'}}
    value = {
        "messages": [
            {"role": "developer", "content": "Be exact."},
            {"role": "user", "content": [{"type": "text", "text": "What "}, {"type": "text", "text": "time?"}]},
            {"role": "assistant", "content": None, "tool_calls": [call], "weight": 1},
            {"role": "tool", "content": "12:00", "tool_call_id": "c1"},
            {"role": "assistant", "content": "Noon.", "weight": 1},
        ],
        "tools": [{"type": "function", "function": {"name": "get_time", "parameters": {}}}],
    }
    row = normalised(value, "messages")
    assert row["messages"] == [
        {"role": "system", "content": "Be exact."},
        {"role": "user", "content": "What time?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"type": "function", "function": {"name": "get_time", "arguments": '{"zone": "UTC"}'}}],
        },
        {"role": "tool", "content": "12:00"},
        {"role": "assistant", "content": "Noon."},
    ]
    assert json.loads(row["tools"]) == value["tools"], "tools travel as JSON text, which TRL parses"


def test_legacy_function_role_and_function_call_become_tool_turns():
    value = {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}},
            {"role": "function", "name": "f", "content": "done"},
            {"role": "assistant", "content": "ok"},
        ]
    }
    roles = [(turn["role"], "tool_calls" in turn) for turn in normalised(value, "messages")["messages"]]
    assert roles == [("user", False), ("assistant", True), ("tool", False), ("assistant", False)]


def test_sharegpt_with_system_function_call_observation_and_tools_text():
    value = {
        "system": "You can call tools.",
        "tools": json.dumps([{"name": "search", "parameters": {}}]),
        "conversations": [
            {"from": "human", "value": "find cats"},
            {"from": "function_call", "value": json.dumps({"name": "search", "arguments": {"q": "cats"}})},
            {"from": "observation", "value": "3 cats"},
            {"from": "gpt", "value": "I found 3 cats."},
        ],
    }
    row = normalised(value, "sharegpt")
    assert [turn["role"] for turn in row["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert row["messages"][2]["tool_calls"][0]["function"] == {"name": "search", "arguments": '{"q": "cats"}'}
    assert json.loads(row["tools"]) == [{"name": "search", "parameters": {}}]


def test_sharegpt_accepts_role_and_content_keys_too():
    value = {"conversations": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    assert normalised(value, "sharegpt") == {
        "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    }


def test_alpaca_with_input_system_and_history():
    value = {
        "system": "Be kind.",
        "history": [["hi", "hello"]],
        "instruction": "Translate to French:",
        "input": "cat",
        "output": "chat",
    }
    assert normalised(value, "alpaca")["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "Translate to French:\ncat"},
        {"role": "assistant", "content": "chat"},
    ]


def test_alpaca_with_only_an_input_is_fine():
    assert normalised({"instruction": "", "input": "2+2", "output": "4"}, "alpaca")["messages"][0]["content"] == "2+2"


def test_prompt_completion_as_text_and_as_messages():
    assert normalised({"prompt": "a", "completion": "b"}, "prompt_completion") == {
        "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    }
    value = {"prompt": [{"role": "user", "content": "a"}], "completion": [{"role": "assistant", "content": "b"}]}
    assert normalised(value, "prompt_completion")["messages"][1] == {"role": "assistant", "content": "b"}


def test_text_stays_text():
    assert normalised({"text": "Once upon a time"}, "text") == {"text": "Once upon a time"}


def test_messages_stored_as_json_text_in_a_table_cell_are_read():
    cell = json.dumps([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
    assert normalised({"messages": cell}, "messages")["messages"][1]["content"] == "b"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([{"messages": []}, {"instruction": "a", "output": "b"}, {"messages": []}], "messages"),
        ([{"conversations": []}], "sharegpt"),
        ([{"instruction": "a", "input": "", "output": "b"}], "alpaca"),
        ([{"prompt": "a", "completion": "b"}], "prompt_completion"),
        ([{"text": "a"}], "text"),
        ([{"instruction": "a"}], "alpaca"),
        ([{"question": "a", "answer": "b"}], None),
        ([1, "x"], None),
    ],
)
def test_detect_format(values, expected):
    assert formats.detect_format(values) == expected
