"""Playground feedback as training data: a chat, with its last answer kept or corrected, becomes an SFT example.

Examples collected in the Playground are saved as a new version of one library dataset, ``playground-feedback``:
each version holds every earlier example plus the new ones, so versions stay immutable and the Train page can pick
the latest. The examples go through the same validation (and size limit) as an upload before they are saved. In
local mode there is one such dataset; in team mode each user has their own (``playground-feedback-NAME``), which
they can share like any dataset.
"""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from workbench.data import library, sources, uploads, validation
from workbench.data.library import Version
from workbench.errors import UserError
from workbench.team import access, settings
from workbench.team.identity import Actor


FEEDBACK_NAME = "playground-feedback"


def feedback_id(actor: Actor) -> str:
    """The library entry every save of ``actor``'s examples adds a version to."""
    return f"{FEEDBACK_NAME}-{actor.name}" if settings.current().team else FEEDBACK_NAME


def example_from_chat(history: list[dict[str, str]], model: str, system_prompt: str, answer: str) -> dict[str, Any]:
    """The conversation one model had (its turns and the user's), with its last answer replaced by ``answer``."""
    turns = [turn for turn in history if turn["role"] == "user" or turn.get("model") == model]
    if not turns or turns[-1]["role"] != "assistant":
        raise UserError("There is no answer to save yet; ask the model something first.")
    if not answer.strip():
        raise UserError("The answer to save is empty; write the answer the model should have given.")
    messages = [{"role": "system", "content": system_prompt.strip()}] if system_prompt.strip() else []
    messages += [{"role": turn["role"], "content": turn["content"]} for turn in turns[:-1]]
    return {"messages": [*messages, {"role": "assistant", "content": answer.strip()}]}


def latest_version(actor: Actor | None = None) -> Version | None:
    versions = library.list_versions(feedback_id(access.acting(actor)))
    return versions[-1] if versions else None


def save_examples(examples: list[dict[str, Any]], note: str, actor: Actor | None = None) -> Version:
    """A new version of the feedback dataset: the latest version's rows plus ``examples`` (checked first)."""
    if not examples:
        raise UserError("No examples collected yet; save an answer from the chat first.")
    report = validation.validate(library.rows_to_jsonl(examples), "feedback.jsonl")
    if report.errors or len(report.rows) != len(examples):
        reason = report.errors[0].message if report.errors else "some examples could not be read back"
        raise UserError(f"The examples cannot be saved: {reason}")
    actor = access.acting(actor)
    with _feedback_lock(feedback_id(actor)):  # two saves at once must not build on one version and lose examples
        base = latest_version(actor)
        rows = (sources.load_rows(str(base.path)) if base else []) + report.rows
        content = library.rows_to_jsonl(rows)
        uploads.check_size(len(content))
        info = {"name": FEEDBACK_NAME, "rows": len(rows), "total": len(rows), "format": "messages", "kind": "jsonl"}
        info |= {"note": note, "parent": base.version if base else None, "split": None}
        return library.add_version(feedback_id(actor), content, ".jsonl", info, actor)


@contextmanager
def _feedback_lock(dataset_id: str) -> Iterator[None]:
    with open(library.library_dir() / f".{dataset_id}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
