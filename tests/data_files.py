"""Small dataset files made in the tests: chat lines and JSON Lines bytes."""

import json


def chat_line(i: int) -> str:
    """One messages-format JSON line: a user turn and an answer, numbered ``i``."""
    return json.dumps(
        {"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": f"yo {i}"}]}
    )


def lines(*rows: str) -> bytes:
    """``rows`` as the bytes of a JSON Lines file."""
    return ("\n".join(rows) + "\n").encode()
