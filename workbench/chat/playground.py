"""Chatting with a trained run in the Playground: which models answer side by side, the messages each is sent, and
their replies streamed from the model server (``workbench.serving``). Nothing here loads a model: the web process
holds no weights.

The tuned side is the run itself; the base side is the model it was trained from, asked with the run's reasoning
setting, so both render the conversation the way training did.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from workbench.runs.directory import Run
from workbench.serving import client, process


@dataclass(frozen=True)
class Side:
    """One column of the Playground: ``name`` is 'tuned' or 'base', ``model`` the id the model server knows."""

    name: str
    model: str
    reasoning: str | None = None


def sides(run: Run, compare: bool) -> list[Side]:
    tuned = Side("tuned", run.run_id)
    return [tuned, Side("base", run.config.model, run.config.reasoning)] if compare else [tuned]


def connect() -> tuple[process.Address, bool]:
    """The model server, started when none runs; True when it had stopped and was started again just now."""
    restarted = process.announced_but_gone()
    return process.ensure_server(), restarted


def build_messages(history: list[dict[str, str]], system_prompt: str = "") -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system_prompt.strip()}] if system_prompt.strip() else []
    return messages + [{"role": turn["role"], "content": turn["content"]} for turn in history]


def stream_reply(
    address: process.Address, side: Side, messages: list[dict[str, str]], max_tokens: int, temperature: float
) -> Iterator[str]:
    """The side's reply, piece by piece (a UserError with the server's sentence when it cannot answer)."""
    extra = {"reasoning": side.reasoning} if side.reasoning else {}
    sampling = {"max_tokens": max_tokens, "temperature": temperature, **extra}
    yield from client.stream_chat(address, side.model, messages, **sampling)
