"""Template placeholders such as ``{{name}}`` left in a dataset (LLaMA-Factory's identity set ships with them):
which ones a dataset holds, and the rows with each filled in by the value a person typed."""

import re
from collections import Counter
from typing import Any


PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")
MAX_VALUE_CHARS = 200  # a name or an author, not a document


def found_in(rows: list[dict[str, Any]]) -> Counter[str]:
    """Each placeholder's name and in how many records it appears, most frequent first."""
    counts: Counter[str] = Counter()
    for row in rows:
        counts.update({match.group(1) for text in _texts(row) if "{{" in text for match in PLACEHOLDER.finditer(text)})
    return counts


def fill(rows: list[dict[str, Any]], values: dict[str, str]) -> list[dict[str, Any]]:
    """New rows with every ``{{name}}`` that has a non-empty value replaced; the others stay as they are."""
    wanted = {name: value.strip()[:MAX_VALUE_CHARS] for name, value in values.items() if value.strip()}
    if not wanted:
        return rows

    def replace(text: str) -> str:
        return PLACEHOLDER.sub(lambda match: wanted.get(match.group(1), match.group(0)), text)

    return [_map_texts(row, replace) for row in rows]


def fill_note(values: dict[str, str]) -> str:
    """A sentence for the version's history: which placeholders were filled, and with what."""
    filled = [f"{{{{{name}}}}} = {value.strip()!r}" for name, value in values.items() if value.strip()]
    return "Filled in " + ", ".join(filled) + "." if filled else ""


def _texts(row: dict[str, Any]) -> list[str]:
    if "text" in row:
        return [row["text"]]
    return [turn.get("content") or "" for turn in row.get("messages", ())]


def _map_texts(row: dict[str, Any], change: Any) -> dict[str, Any]:
    if "text" in row:
        return {**row, "text": change(row["text"])}
    turns = [{**turn, "content": change(turn["content"])} if turn.get("content") else turn for turn in row["messages"]]
    return {**row, "messages": turns}
