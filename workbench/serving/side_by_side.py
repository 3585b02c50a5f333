"""Several models answering their own conversations in one request (the Playground's columns): the base and the
LoRA adapters trained from it answer together from one batched call on the one loaded base; a full fine-tune or a
model on another base answers on its own, after them.

``answers`` yields ``Event``s as they come: text for one answer, its end, a sentence for an answer that could not
be given (the others go on), or a wait for the GPU.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from workbench.errors import UserError
from workbench.serving.batched import BatchReply
from workbench.serving.store import Ask, Store, batchable
from workbench.serving.streaming import Reply, Sampling


@dataclass(frozen=True)
class Event:
    """``index`` is the answer's place in the request; exactly one of the other fields is set."""

    index: int
    text: str = ""
    finish_reason: str | None = None
    error: str | None = None
    waiting: str | None = None  # "Waiting for the GPU: ..." (for every answer of the group)


def answers(store: Store, asks: Sequence[Ask], how: Sampling) -> Iterator[Event]:
    for group in groups(asks):
        try:
            for waiting in store.wait_for_gpu(asks[group[0]][0]):
                yield Event(group[0], waiting=waiting)
            if len(group) > 1:
                yield from _together(store, [asks[index] for index in group], group, how)
            else:
                yield from _alone(store, asks[group[0]], group[0], how)
        except UserError as error:
            yield from (Event(index, error=str(error)) for index in group)


def groups(asks: Sequence[Ask]) -> list[list[int]]:
    """The asks' places, grouped: those on one base that ``batchable`` allows together, every other alone."""
    by_base: dict[str, list[int]] = {}
    for index, (served, _, _) in enumerate(asks):
        shares_base = served.run is None or served.run.is_adapter
        by_base.setdefault(served.base if shares_base else f"{index}:own", []).append(index)
    grouped: list[list[int]] = []
    for members in by_base.values():
        if batchable([asks[index][0] for index in members]):
            grouped.append(members)
        else:
            grouped.extend([index] for index in members)
    return grouped


def _together(store: Store, asks: list[Ask], places: list[int], how: Sampling) -> Iterator[Event]:
    with store.ready_together(asks) as (model, rows):
        reply = BatchReply(model, rows, how)
        for row, text in reply:
            yield Event(places[row], text=text)
    yield from (Event(place, finish_reason=reason) for place, reason in zip(places, reply.finish_reasons, strict=True))


def _alone(store: Store, ask: Ask, place: int, how: Sampling) -> Iterator[Event]:
    served, messages, reasoning = ask
    with store.ready(served, reasoning) as ready, ready.context():
        reply = Reply(ready.model, ready.tokenizer, ready.rendering, messages, how)
        for piece in reply:
            yield Event(place, text=piece)
    yield Event(place, finish_reason=reply.finish_reason)
