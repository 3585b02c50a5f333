"""Chatting with a trained run: load its base model with the adapter, and stream replies token by token.

The prompt is rendered with the same chat template the run was trained with (saved next to the adapter).
"""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.models import loading
from workbench.models.chat_template import stop_token_ids
from workbench.models.device import device_info
from workbench.runs.directory import Run


@dataclass
class ChatModel:
    """A loaded model ready to answer; ``adapter`` says whether it is the tuned one or the untouched base."""

    model: Any
    tokenizer: Any
    label: str


def load_base(config: RunConfig) -> ChatModel:
    """The run's base model without any adapter, for side-by-side comparison."""
    model_path = loading.resolve_model(config.model)
    model = loading.load_model(model_path, "lora", device_info().cuda)
    model.eval()
    return ChatModel(model, loading.load_tokenizer(model_path), "base")


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
    return ChatModel(model, tokenizer, "tuned")


def build_messages(history: list[dict[str, str]], system_prompt: str = "") -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system_prompt.strip()}] if system_prompt.strip() else []
    return messages + [{"role": turn["role"], "content": turn["content"]} for turn in history]


def stream_reply(
    chat: ChatModel, messages: list[dict[str, str]], max_new_tokens: int = 128, temperature: float = 0.0
) -> Iterator[str]:
    """Yield the reply piece by piece as the model generates it."""
    from transformers import TextIteratorStreamer

    tokenizer = chat.tokenizer
    inputs = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    ).to(chat.model.device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
    sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
    kwargs = dict(**inputs, streamer=streamer, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
    kwargs["eos_token_id"] = stop_token_ids(tokenizer, chat.model)
    worker = threading.Thread(target=chat.model.generate, kwargs={**kwargs, **sampling}, daemon=True)
    worker.start()
    for piece in streamer:
        if piece:
            yield piece
    worker.join()
