"""One reply, generated piece by piece: prompted with the model's rendering contract, stopped at its end-of-turn
token, at a stop string, at the token limit, or when the caller goes away.

``Reply`` is an iterator of text pieces; once it is exhausted it knows why it ended (``finish_reason``, as the
OpenAI API names it) and how many tokens the prompt and the answer had.
"""

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.models.rendering import Rendering, stop_token_ids


@dataclass(frozen=True)
class Sampling:
    """How to generate: the limits of the OpenAI API's chat completions, checked by ``workbench.serving.api``."""

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()


class Reply:
    """The pieces of one generated answer; iterate it once."""

    def __init__(self, model: Any, tokenizer: Any, rendering: Rendering, messages: Sequence[dict], how: Sampling):
        self.model, self.tokenizer, self.rendering, self.how = model, tokenizer, rendering, how
        prompt = rendering.prompt(tokenizer, list(messages))
        self.inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
        self.prompt_tokens = int(self.inputs["input_ids"].shape[1])
        self.completion_tokens = 0
        self.finish_reason = "stop"
        self._stopped = threading.Event()
        self._hit_stop_string = False

    def __iter__(self) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
        result: dict[str, Any] = {}
        worker = threading.Thread(target=self._generate, args=(streamer, result), daemon=True)
        worker.start()
        try:
            pieces = _without_frame(streamer, _visible_prefix(self.tokenizer, self.rendering))
            yield from self._until_stop(pieces)
        finally:
            self._stopped.set()  # the caller went away or a stop string came: end the generation too
            worker.join()  # the streamer's queue has no bound, so the worker never waits for this reader
        self._count(result.get("output"))

    def _generate(self, streamer: Any, result: dict[str, Any]) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        stopped = self._stopped

        class _Stopped(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return stopped.is_set()

        if self.how.seed is not None:
            torch.manual_seed(self.how.seed)
        sampling: dict[str, Any] = {"do_sample": False}
        if self.how.temperature > 0:
            sampling = {"do_sample": True, "temperature": self.how.temperature, "top_p": self.how.top_p}
        try:
            with torch.inference_mode():
                result["output"] = self.model.generate(
                    **self.inputs,
                    **sampling,
                    streamer=streamer,
                    max_new_tokens=self.how.max_tokens,
                    repetition_penalty=self.how.repetition_penalty,
                    pad_token_id=self.tokenizer.pad_token_id,
                    eos_token_id=stop_token_ids(self.tokenizer, self.rendering, self.model),
                    stopping_criteria=StoppingCriteriaList([_Stopped()]),
                )
        except Exception:  # the streamer must still end, or the reader waits for its timeout
            streamer.end()
            raise

    def _count(self, output: Any) -> None:
        if output is None:
            return
        new = output[0, self.prompt_tokens :].tolist()
        stops = set(stop_token_ids(self.tokenizer, self.rendering, self.model))
        self.completion_tokens = len(new)
        ended_itself = any(token in stops for token in new)
        if not ended_itself and len(new) >= self.how.max_tokens and not self._hit_stop_string:
            self.finish_reason = "length"

    def _until_stop(self, pieces: Iterator[str]) -> Iterator[str]:
        """The pieces up to (not including) the first stop string; text that could be the start of one is held
        back until it is known not to be."""
        stops = self.how.stop
        if not stops:
            yield from pieces
            return
        held, keep = "", max(len(stop) for stop in stops) - 1
        for piece in pieces:
            held += piece
            cut = min((held.find(stop) for stop in stops if stop in held), default=-1)
            if cut >= 0:
                if held[:cut]:
                    yield held[:cut]
                self._hit_stop_string = True
                return
            if len(held) > keep:
                yield held[: len(held) - keep]
                held = held[len(held) - keep :]
        if held:
            yield held


def _visible_prefix(tokenizer: Any, rendering: Rendering) -> str:
    """What the answer's frame looks like once special tokens are hidden (gpt-oss: 'final'), to keep it out of the
    reply as ``Rendering.answer`` does."""
    frame = rendering.answer_prefix.removeprefix(rendering.opening)  # a frame the prompt wrote is not generated
    ids = tokenizer(frame, add_special_tokens=False)["input_ids"] if frame else []
    return tokenizer.decode(ids, skip_special_tokens=True)


def _without_frame(pieces: Iterator[str], prefix: str) -> Iterator[str]:
    held: str | None = ""
    for piece in pieces:
        if prefix and held is not None:
            held += piece
            if len(held) < len(prefix) and prefix.startswith(held):
                continue
            piece, held = held.removeprefix(prefix), None
        if piece:
            yield piece
    if held:
        yield held
