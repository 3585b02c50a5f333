"""A prompt typed into the arena: the base and the picked runs (or checkpoints) answer it live through the model
server, greedily and as long as the first run's evaluation answers, and the answers go to the same blind vote as
the held-out prompts' saved ones."""

import hashlib
import random

from workbench.errors import UserError
from workbench.results import arena
from workbench.runs import directory
from workbench.serving import client, process
from workbench.serving.catalogue import CHECKPOINT_MARK
from workbench.team import access
from workbench.team.identity import Actor


MAX_PROMPT_CHARS = 4000


def typed_matchup(run_ids: list[str], prompt: str, actor: Actor | None = None) -> arena.Matchup:
    """The contenders' answers to ``prompt``, shuffled for ``actor``, ready to vote on."""
    text = prompt.strip()
    if not text:
        raise UserError("Type a prompt first.")
    if len(text) > MAX_PROMPT_CHARS:
        raise UserError(f"The prompt is {len(text)} characters long; keep it under {MAX_PROMPT_CHARS}.")
    names = list(arena.contenders(run_ids, actor))  # checks that each may be seen, and that they share a base
    first = directory.get_run(run_ids[0].partition(CHECKPOINT_MARK)[0])
    messages = [{"role": "user", "content": text}]
    address = process.ensure_server()
    shown = [(name, _answer(address, name, messages, first)) for name in names]
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    key = f"typed|{digest}|{'|'.join(sorted(names))}"
    random.Random(f"{key}|{access.acting(actor).name}").shuffle(shown)
    return arena.Matchup(key, messages, text, shown)


def _answer(address: process.Address, name: str, messages: list[dict[str, str]], run: directory.Run) -> str:
    base = name.startswith(arena.BASE_PREFIX)
    extra = {"reasoning": run.config.reasoning} if base and run.config.reasoning else {}
    pieces = client.stream_chat(
        address,
        name.removeprefix(arena.BASE_PREFIX),
        messages,
        max_tokens=run.config.max_new_tokens_eval,
        temperature=0.0,
        seed=0,
        **extra,
    )
    return "".join(pieces).strip()
