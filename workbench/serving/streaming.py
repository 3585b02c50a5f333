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
from workbench.serving.visible import VisibleText


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
        visible = VisibleText(self.tokenizer, self.rendering, self.how.stop)
        try:
            for piece in streamer:
                if shown := visible.feed(piece):
                    yield shown
                if visible.stopped:
                    break
            if shown := visible.finish():
                yield shown
        finally:
            self._hit_stop_string = visible.stopped
            self._stopped.set()  # the caller went away or a stop string came: end the generation too
            worker.join()  # the streamer's queue has no bound, so the worker never waits for this reader
        self._count(result.get("output"))

    def _generate(self, streamer: Any, result: dict[str, Any]) -> None:
        import torch
        from transformers import StoppingCriteriaList

        stop_ids = stop_token_ids(self.tokenizer, self.rendering, self.model)
        arguments = generation_arguments(self.how, self.tokenizer.pad_token_id, stop_ids)
        try:
            with torch.inference_mode():
                result["output"] = self.model.generate(
                    **self.inputs,
                    **arguments,
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([WhenSet(self._stopped)]),
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


def generation_arguments(how: Sampling, pad_token_id: int | None, stop_ids: list[int]) -> dict[str, Any]:
    """``generate``'s arguments for ``how`` (the seed is set here, just before generating)."""
    import torch

    if how.seed is not None:
        torch.manual_seed(how.seed)
    sampling: dict[str, Any] = {"do_sample": False}
    if how.temperature > 0:
        sampling = {"do_sample": True, "temperature": how.temperature, "top_p": how.top_p}
    return {
        **sampling,
        "max_new_tokens": how.max_tokens,
        "repetition_penalty": how.repetition_penalty,
        "pad_token_id": pad_token_id,
        "eos_token_id": stop_ids,
    }


class WhenSet:
    """A stopping criterion: every answer ends once ``event`` is set (the caller went away, or a stop string came)."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
        return self.event.is_set()
