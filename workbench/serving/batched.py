"""Side-by-side answers from one batched call: the base and several LoRA adapters attached to it answer their own
conversations in one ``generate`` (peft's mixed-adapter batches, ``adapter_names``), each row streamed as its
tokens come.

Each row is prompted with its own tokenizer and rendering contract (the run's saved one, or the base's), left
padded, and ends at its own end-of-turn token, at a stop string or at the token limit, as ``Reply`` ends one
answer. The seed is set once for the batch, so sampled answers are reproducible but not the same draws as one
request at a time; greedy answers are the same tokens.
"""

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.models.rendering import Rendering, stop_token_ids
from workbench.serving.streaming import Sampling, WhenSet, generation_arguments
from workbench.serving.visible import VisibleText


BASE_ROW = "__base__"  # peft's name for "no adapter" in a mixed batch


@dataclass(frozen=True)
class Row:
    """One answer in the batch: who answers (an adapter's name, or ``BASE_ROW``) and how its prompt is written."""

    adapter: str
    tokenizer: Any
    rendering: Rendering
    messages: Sequence[dict]


class BatchReply:
    """Iterate once: ``(row index, visible text)`` as each row's text comes; afterwards ``finish_reasons`` and
    ``completion_tokens`` hold, per row, why it ended ("stop" or "length") and how many tokens it generated."""

    def __init__(self, model: Any, rows: Sequence[Row], how: Sampling) -> None:
        self.model, self.rows, self.how = model, list(rows), how
        self.stop_ids = [set(stop_token_ids(row.tokenizer, row.rendering, model)) for row in self.rows]
        self.visible = [VisibleText(row.tokenizer, row.rendering, how.stop) for row in self.rows]
        self.completion_tokens = [0] * len(self.rows)
        self.finish_reasons = ["length"] * len(self.rows)
        self.done = [False] * len(self.rows)
        self._decoders = [_Decoder(row.tokenizer) for row in self.rows]
        self._gone = threading.Event()
        self._events: queue.Queue = queue.Queue()

    def __iter__(self) -> Iterator[tuple[int, str]]:
        worker = threading.Thread(target=self._generate, daemon=True)
        worker.start()
        try:
            while (event := self._events.get()) is not None:
                if isinstance(event, BaseException):
                    raise event
                yield event
        finally:
            self._gone.set()  # the caller went away: end the generation too
            worker.join()

    def _generate(self) -> None:
        import torch
        from transformers import StoppingCriteriaList

        inputs = self._inputs()
        union = sorted(set().union(*self.stop_ids))
        pad = self.rows[0].tokenizer.pad_token_id
        arguments = generation_arguments(self.how, pad if pad is not None else union[0], union)
        criteria = StoppingCriteriaList([WhenSet(self._gone), _RowsDone(self)])
        try:
            with torch.inference_mode():
                self.model.generate(
                    **inputs,
                    **arguments,
                    adapter_names=[row.adapter for row in self.rows],
                    streamer=_RowStreamer(self),
                    stopping_criteria=criteria,
                )
            self._flush()
        except Exception as error:  # noqa: BLE001 - handed to the reader, which raises it in the caller's thread
            self._events.put(error)
        finally:
            self._events.put(None)

    def _inputs(self) -> dict[str, Any]:
        """Every row's prompt, tokenized by its own tokenizer and padded on the left to the longest."""
        import torch

        ids = [
            row.tokenizer(row.rendering.prompt(row.tokenizer, list(row.messages)), add_special_tokens=False)[
                "input_ids"
            ]
            for row in self.rows
        ]
        width = max(len(row_ids) for row_ids in ids)
        pad = self.rows[0].tokenizer.pad_token_id or 0
        padded = [[pad] * (width - len(row_ids)) + row_ids for row_ids in ids]
        mask = [[0] * (width - len(row_ids)) + [1] * len(row_ids) for row_ids in ids]
        device = self.model.device
        return {"input_ids": torch.tensor(padded, device=device), "attention_mask": torch.tensor(mask, device=device)}

    def take(self, row: int, token: int) -> None:
        """A new token of ``row`` (in the generation thread): its visible text goes to the reader."""
        if self.done[row]:
            return  # a finished row is padded until every row ends
        self.completion_tokens[row] += 1
        if token in self.stop_ids[row]:
            self._end(row, "stop")
            return
        if shown := self.visible[row].feed(self._decoders[row].add(token)):
            self._events.put((row, shown))
        if self.visible[row].stopped:
            self._end(row, "stop")
        elif self.completion_tokens[row] >= self.how.max_tokens:
            self._end(row, "length")

    def _end(self, row: int, reason: str) -> None:
        self.done[row], self.finish_reasons[row] = True, reason

    def _flush(self) -> None:
        """Text still held back (a possible stop string, a word not yet finished) once every row has ended."""
        for row, visible in enumerate(self.visible):
            if shown := visible.feed(self._decoders[row].rest()) + visible.finish():
                self._events.put((row, shown))


class _Decoder:
    """One row's tokens turned into text a word at a time (as transformers' ``TextStreamer`` does): decoding a
    growing list is only final up to its last space or newline."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer, self.tokens, self.printed = tokenizer, [], 0

    def add(self, token: int) -> str:
        self.tokens.append(token)
        text = self.tokenizer.decode(self.tokens, skip_special_tokens=True)
        if text.endswith("\n"):
            piece, self.tokens, self.printed = text[self.printed :], [], 0
            return piece
        if text.endswith("\ufffd"):  # half a character: wait for the rest of its bytes
            return ""
        end = text.rfind(" ") + 1
        piece = text[self.printed : end] if end > self.printed else ""
        self.printed += len(piece)
        return piece

    def rest(self) -> str:
        text = self.tokenizer.decode(self.tokens, skip_special_tokens=True)
        return text[self.printed :].removesuffix("\ufffd")


class _RowStreamer:
    """``generate``'s streamer: the first call carries the prompts, each later one the batch's next tokens."""

    def __init__(self, reply: BatchReply) -> None:
        self.reply, self.prompt_seen = reply, False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        for row, token in enumerate(value.reshape(-1).tolist()):
            self.reply.take(row, int(token))

    def end(self) -> None:
        pass


class _RowsDone:
    """A stopping criterion per row: a row ends when its own end came (its stop token, stop string or limit)."""

    def __init__(self, reply: BatchReply) -> None:
        self.reply = reply

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        return torch.tensor(self.reply.done, device=input_ids.device)
