"""Chatting with a trained run: load its base model with the adapter, and stream replies token by token.

Prompts follow the rendering contract the run was trained with (saved next to the adapter: its chat template, its
reasoning setting, the end-of-turn token that stops a reply); the untouched base is asked the same way.
"""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.models import loading
from workbench.models.device import device_info
from workbench.models.rendering import Rendering, RenderingError, rendering_for, saved_rendering, stop_token_ids
from workbench.runs.directory import Run


@dataclass
class ChatModel:
    """A loaded model ready to answer; ``adapter`` says whether it is the tuned one or the untouched base."""

    model: Any
    tokenizer: Any
    label: str
    rendering: Rendering


def load_base(config: RunConfig) -> ChatModel:
    """The run's base model without any adapter, for side-by-side comparison."""
    model_path = loading.resolve_model(config.model)
    tokenizer = loading.load_tokenizer(model_path)
    try:
        rendering = rendering_for(tokenizer, config.reasoning)
    except RenderingError as error:
        raise UserError(str(error)) from None
    model = loading.load_model(model_path, "lora", device_info().cuda)
    model.eval()
    return ChatModel(model, tokenizer, "base", rendering)


def load_tuned(run: Run) -> ChatModel:
    """The run's result: the base model with the trained adapter on top, or the whole trained model (full
    fine-tuning and 'freeze' save every weight)."""
    if not run.has_output:
        raise UserError(f"The run {run.run_id} has no trained adapter yet; wait for it to finish or pick another run.")
    tokenizer = loading.load_tokenizer(str(run.adapter_dir))
    cuda = device_info().cuda
    if not run.is_adapter:
        model = loading.load_model(str(run.adapter_dir), "full", cuda)
    else:
        from peft import PeftModel

        base = loading.load_model(loading.resolve_model(run.config.model), "lora", cuda)
        model = PeftModel.from_pretrained(base, str(run.adapter_dir))
    model.eval()
    try:
        rendering = saved_rendering(run.adapter_dir, tokenizer)
    except RenderingError as error:
        raise UserError(str(error)) from None
    return ChatModel(model, tokenizer, "tuned", rendering)


def build_messages(history: list[dict[str, str]], system_prompt: str = "") -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system_prompt.strip()}] if system_prompt.strip() else []
    return messages + [{"role": turn["role"], "content": turn["content"]} for turn in history]


def stream_reply(
    chat: ChatModel, messages: list[dict[str, str]], max_new_tokens: int = 128, temperature: float = 0.0
) -> Iterator[str]:
    """Yield the reply piece by piece as the model generates it."""
    from transformers import TextIteratorStreamer

    tokenizer, rendering = chat.tokenizer, chat.rendering
    prompt = rendering.prompt(tokenizer, messages)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(chat.model.device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
    sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
    kwargs = dict(**inputs, streamer=streamer, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
    kwargs["eos_token_id"] = stop_token_ids(tokenizer, rendering, chat.model)
    worker = threading.Thread(target=chat.model.generate, kwargs={**kwargs, **sampling}, daemon=True)
    worker.start()
    yield from _without_frame(streamer, _visible_prefix(tokenizer, rendering))
    worker.join()


def _visible_prefix(tokenizer: Any, rendering: Rendering) -> str:
    """What the answer's frame looks like once special tokens are hidden (gpt-oss: 'final'), to keep it out of the
    reply as ``Rendering.answer`` does."""
    frame = rendering.answer_prefix.removeprefix(rendering.opening)  # a frame the prompt wrote is not generated
    ids = tokenizer(frame, add_special_tokens=False)["input_ids"] if frame else []
    return tokenizer.decode(ids, skip_special_tokens=True)


def _without_frame(pieces: Iterator[str], prefix: str) -> Iterator[str]:
    held = ""
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
