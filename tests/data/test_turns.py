"""Tests for workbench.turns: OpenAI-style turns are checked one by one and as a conversation, in plain sentences."""

import pytest

from workbench.data.turns import check_conversation, normalise_messages, normalise_turn


def turns(*roles: str) -> list[dict]:
    return [{"role": role, "content": f"{role} text"} for role in roles]


@pytest.mark.parametrize(
    ("roles", "code", "words"),
    [
        (("system", "user", "assistant"), None, ""),
        (("user", "assistant", "user", "assistant"), None, ""),
        (("user",), "no_assistant", "no assistant turn"),
        (("system", "assistant"), "no_user", "no user turn"),
        (("assistant", "user", "assistant"), "role_order", "Turn 1 is an assistant turn before any user turn"),
        (("user", "user", "assistant"), "role_order", "Turns 1 and 2 are both user turns"),
        (("user", "system", "assistant"), "role_order", "Turn 2 is a system message after the conversation started"),
        (("user", "assistant", "user"), "last_not_assistant", "ends with a user turn"),
    ],
)
def test_the_order_of_roles(roles, code, words):
    issue = check_conversation(turns(*roles))
    assert (issue.code if issue else None) == code
    assert issue is None or words in issue.message


def test_a_tool_call_must_be_answered_by_a_tool_turn():
    call = {"role": "assistant", "tool_calls": [{"function": {"name": "lookup", "arguments": '{"id": 7}'}}]}
    answered = [*turns("user"), call, {"role": "tool", "content": "found"}, *turns("assistant")]
    normalised, issue = normalise_messages(answered)
    assert issue is None and normalised[1]["tool_calls"][0]["function"] == {"name": "lookup", "arguments": '{"id": 7}'}
    _, issue = normalise_messages([*turns("user"), call, *turns("assistant")])
    assert issue.code == "role_order" and "must be the tool's result" in issue.message


@pytest.mark.parametrize(
    ("turn", "code"),
    [
        ({"role": "robot", "content": "x"}, "unknown_role"),
        ({"content": "x"}, "malformed_messages"),
        ({"role": "user"}, "missing_content"),
        ({"role": "user", "content": "   "}, "empty_content"),
        ({"role": "user", "content": 42}, "non_text_content"),
        ({"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}, "non_text_content"),
        ({"role": "user", "content": "x", "weight": 1}, "bad_weight"),
        ({"role": "assistant", "content": "x", "weight": 0.5}, "bad_weight"),
        ({"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}, "bad_tool_call"),
    ],
)
def test_each_bad_turn_gets_its_code(turn, code):
    _, issue = normalise_turn(turn, 1)
    assert issue.code == code and issue.message.startswith("Turn 1")


def test_aliases_and_text_parts_are_accepted():
    turn, issue = normalise_turn({"role": "developer", "content": [{"type": "text", "text": "Be "}, "brief."]}, 1)
    assert issue is None and turn == {"role": "system", "content": "Be brief."}
