"""Chatting with a trained run in the Playground: which models answer side by side, the messages each is sent, and
their replies streamed from the model server (``workbench.serving``). Nothing here loads a model: the web process
holds no weights.

The tuned side is the run itself; the base side is the model it was trained from, asked with the run's reasoning
setting, so both render the conversation the way training did. Every side missing an answer to a question is
asked in one request, so the model server answers the base and the runs on it from one batched call.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from workbench.runs.directory import Run
from workbench.serving import client, process


@dataclass(frozen=True)
class Side:
    """One column of the Playground: ``name`` is 'tuned' or 'base', ``model`` the id the model server knows."""

    name: str
    model: str
    reasoning: str | None = None


def sides(run: Run, compare: bool, others: list[Run] = ()) -> list[Side]:
    """The columns: the run, its base when comparing, and other runs on the same base (named by their run ids)."""
    base = [Side("base", run.config.model, run.config.reasoning)] if compare else []
    return [Side("tuned", run.run_id), *base, *(Side(other.run_id, other.run_id) for other in others)]


def same_base(run: Run, runs: list[Run]) -> list[Run]:
    """The other finished runs trained from ``run``'s base: the model server answers them from the one loaded base."""
    return [other for other in runs if other.run_id != run.run_id and other.config.model == run.config.model]


def column_title(name: str) -> str:
    titles = {"tuned": "Trained model", "base": "Base model, without training"}
    return titles.get(name, f"Run {name}")


def connect() -> tuple[process.Address, bool]:
    """The model server, started when none runs; True when it had stopped and was started again just now."""
    restarted = process.announced_but_gone()
    return process.ensure_server(), restarted


def side_turns(history: list[dict[str, str]], name: str, upto: int | None = None) -> list[dict[str, str]]:
    """The conversation one side has had: every user turn and that side's own answers (up to index ``upto``)."""
    shown = history if upto is None else history[: upto + 1]
    return [turn for turn in shown if turn["role"] == "user" or turn.get("model") == name]


def unanswered(history: list[dict[str, str]], name: str) -> list[int]:
    """Where in ``history`` a user turn has no answer from ``name`` yet (the new question; or the base's, when
    "compare" was turned on after some questions), earliest first."""
    return [
        index
        for index, turn in enumerate(history)
        if turn["role"] == "user" and not any(answer.get("model") == name for answer in _answers_after(history, index))
    ]


def position(history: list[dict[str, str]], turn: dict[str, str]) -> int:
    """Where ``turn`` (this very object) is in ``history`` now, after answers were put in before it."""
    return next(index for index, candidate in enumerate(history) if candidate is turn)


def add_answer(history: list[dict[str, str]], user_index: int, name: str, text: str) -> None:
    """Put ``name``'s answer to the user turn at ``user_index`` after that turn's other answers."""
    at = user_index + 1 + len(_answers_after(history, user_index))
    history.insert(at, {"role": "assistant", "content": text, "model": name})


def _answers_after(history: list[dict[str, str]], user_index: int) -> list[dict[str, str]]:
    answers = []
    for turn in history[user_index + 1 :]:
        if turn["role"] == "user":
            break
        answers.append(turn)
    return answers


def build_messages(history: list[dict[str, str]], system_prompt: str = "") -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system_prompt.strip()}] if system_prompt.strip() else []
    return messages + [{"role": turn["role"], "content": turn["content"]} for turn in history]


def asked_messages(
    history: list[dict[str, str]], names: list[str], upto: int, system_prompt: str = ""
) -> dict[str, list[dict[str, str]]]:
    """What each side in ``names`` is sent to answer the user turn at ``upto``: its own conversation so far."""
    return {name: build_messages(side_turns(history, name, upto), system_prompt) for name in names}


def stream_answers(
    address: process.Address,
    asked: dict[str, list[dict[str, str]]],
    sides: dict[str, Side],
    sampling: dict[str, Any],
    on_wait: Callable[[str], None] = lambda message: None,
) -> Iterator[tuple[str, str, str | None]]:
    """Several sides' replies to their own messages (``asked``: side name -> messages) from one request, the base
    and the runs on it generated together: ``(side name, piece, None)`` as pieces come, ``(side name, "",
    sentence)`` for a side the server could not answer."""
    names = list(asked)
    answers = [
        {"model": sides[name].model, "messages": asked[name]}
        | ({"reasoning": sides[name].reasoning} if sides[name].reasoning else {})
        for name in names
    ]
    for index, piece, error in client.stream_side_by_side(address, answers, on_wait, **sampling):
        yield names[index], piece, error


def server_address() -> str | None:
    """Where the model server's API listens now (``http://HOST:PORT``), or None when none runs."""
    running = process.running_server()
    return running.url if running else None
