"""Which engine generates the model server's answers, chosen by ``WORKBENCH_SERVE_ENGINE``:

- ``transformers`` (the embedded default): every base loaded once in the model server, adapters switched per
  request, side-by-side answers from one batched call (``store``, ``batched``);
- ``vllm``: a vLLM server per base model, started by the model server, with LoRA adapters loaded by name
  (``vllm_engine``); for GPU servers with vLLM installed.

Both render every prompt with the run's saved chat template in the model server (``renderings``) and stop at its
end-of-turn token, so a run answers alike through either. The HTTP API talks to an ``Engine`` only.
"""

import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from workbench.errors import UserError
from workbench.serving import scoring, side_by_side
from workbench.serving.catalogue import Served
from workbench.serving.side_by_side import Event
from workbench.serving.store import Ask, Store
from workbench.serving.streaming import Reply, Sampling


ENGINES = ("transformers", "vllm")


class Answer(Protocol):
    """One answer being generated: iterate its visible pieces once; then it knows why it ended and its size."""

    finish_reason: str
    prompt_tokens: int
    completion_tokens: int

    def __iter__(self) -> Iterator[str]: ...


class Engine(Protocol):
    def wait_for_gpu(self, served: Served) -> Iterator[str]:
        """A sentence now and then while the model cannot be given room on the GPU yet."""

    def reply(
        self, served: Served, messages: list[dict], reasoning: str | None, how: Sampling
    ) -> AbstractContextManager[Answer]:
        """Hold the engine for one answer of ``served`` to ``messages``."""

    def answers(self, asks: Sequence[Ask], how: Sampling) -> Iterator[Event]:
        """Several models' answers to their own conversations, as ``side_by_side.Event``s."""

    def answer_loss(self, served: Served, messages: list[dict], reasoning: str | None) -> tuple[int, float]:
        """(answer tokens, mean loss per answer token) of the conversation's last message under ``served``."""

    def describe(self) -> list[dict[str, Any]]:
        """What is loaded, for the health endpoint."""

    def close(self) -> None:
        """Stop what the engine started (the model server is stopping)."""


class TransformersEngine:
    """Generation in the model server's own process, on the models ``store`` holds."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()

    def wait_for_gpu(self, served: Served) -> Iterator[str]:
        return self.store.wait_for_gpu(served)

    @contextmanager
    def reply(self, served: Served, messages: list[dict], reasoning: str | None, how: Sampling) -> Iterator[Reply]:
        with self.store.ready(served, reasoning) as ready, ready.context():
            yield Reply(ready.model, ready.tokenizer, ready.rendering, messages, how)

    def answers(self, asks: Sequence[Ask], how: Sampling) -> Iterator[Event]:
        return side_by_side.answers(self.store, asks, how)

    def answer_loss(self, served: Served, messages: list[dict], reasoning: str | None) -> tuple[int, float]:
        with self.store.ready(served, reasoning) as ready, ready.context():
            return scoring.answer_loss(ready.model, ready.tokenizer, ready.rendering, messages)

    def describe(self) -> list[dict[str, Any]]:
        return self.store.describe()

    def close(self) -> None:
        pass  # the models go with the process


def engine_name() -> str:
    return os.environ.get("WORKBENCH_SERVE_ENGINE", "").strip().lower() or "transformers"


def from_settings() -> Engine:
    """The engine ``WORKBENCH_SERVE_ENGINE`` names; a UserError for an unknown one."""
    name = engine_name()
    if name == "transformers":
        return TransformersEngine()
    if name == "vllm":
        from workbench.serving.vllm_engine import VllmEngine

        return VllmEngine()
    raise UserError(f"WORKBENCH_SERVE_ENGINE is '{name}'; set it to one of {', '.join(ENGINES)}.")
