"""Column mappings: which field of a table holds the question, the answer, a system prompt or plain text, for data
whose layout the workbench does not recognise by its field names (say a CSV with ``Frage``/``Antwort`` columns).

The page suggests a mapping from common column names and the user confirms it; the mapping is saved with the
dataset version, so training reads the file the same way.
"""

from dataclasses import asdict, dataclass
from typing import Any


# Column names a mapping suggestion recognises (the user confirms the suggestion on the page).
ALIASES = {
    "prompt": ("prompt", "question", "query", "input", "instruction", "user", "human", "q", "request", "source"),
    "completion": ("completion", "answer", "response", "output", "assistant", "gpt", "a", "reply", "target"),
    "system": ("system", "system_prompt", "system_message"),
    "text": ("text", "content", "document", "body", "sentence", "passage"),
}


@dataclass(frozen=True)
class ColumnMapping:
    """Which field of each record holds what, for data whose layout is not recognised by its field names; a
    mapping with ``text`` names plain text, and then prompt and completion stay empty."""

    prompt: str = ""
    completion: str = ""
    system: str = ""
    text: str = ""

    @property
    def format(self) -> str:
        return "text" if self.text else "prompt_completion"

    @property
    def complete(self) -> bool:
        return bool(self.text) or bool(self.prompt and self.completion and self.prompt != self.completion)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> "ColumnMapping | None":
        if not values:
            return None
        return cls(**{key: str(values.get(key) or "") for key in ("prompt", "completion", "system", "text")})

    def apply(self, value: Any) -> Any:
        """The record with its fields renamed to the ``prompt_completion`` or ``text`` layout."""
        if not isinstance(value, dict):
            return value
        if self.text:
            return {"text": value.get(self.text)} if self.text in value else {}
        renamed = {key: value[column] for key, column in self._pairs() if column in value}
        if self.system and isinstance(renamed.get("system"), str) and not renamed["system"].strip():
            del renamed["system"]
        return renamed

    def _pairs(self) -> list[tuple[str, str]]:
        return [
            (key, column)
            for key, column in (("prompt", self.prompt), ("completion", self.completion), ("system", self.system))
            if column
        ]


def suggest_mapping(columns: list[str]) -> ColumnMapping | None:
    """A guess at which columns hold the prompt and the answer (or the text), from common column names."""
    lowered = {column.lower().strip(): column for column in columns}

    def pick(role: str, taken: tuple[str, ...] = ()) -> str:
        return next((lowered[a] for a in ALIASES[role] if a in lowered and lowered[a] not in taken), "")

    prompt = pick("prompt")
    completion = pick("completion", (prompt,))
    if prompt and completion:
        return ColumnMapping(prompt, completion, pick("system", (prompt, completion)))
    text = pick("text")
    return ColumnMapping(text=text) if text else None
