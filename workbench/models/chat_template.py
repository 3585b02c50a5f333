"""What a model's chat template says about training and generation: whether it marks the answers with
``{% generation %}`` (so training can learn from the answers only), and which token ids end an answer.

Which ids end an answer matters for generation (held-out scoring, answers during training, Playground):

``tokenizer.eos_token_id`` alone is not enough: many chat models end a turn with another token than their
end-of-sequence one (Gemma's ``<end_of_turn>``, Qwen base models' ChatML ``<|im_end|>``, Llama 3's ``<|eot_id|>``,
Phi-3's ``<|end|>``), and their ``generation_config`` may list several. A model that learned to close its answers
with the chat template's end-of-turn token must be stopped there, or it writes on to the length limit.
"""

import re
from typing import Any


GENERATION = re.compile(r"\{%-?\s*generation\s*-?%\}")
# A short exchange rendered to see how a chat template closes an answer.
TEMPLATE_SAMPLE = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there"}]
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "<|endoftext|>", "</s>", "<|eot|>")


def has_generation_markers(tokenizer: Any) -> bool:
    """True when the chat template wraps the answers in ``{% generation %}`` markers."""
    return bool(GENERATION.search(getattr(tokenizer, "chat_template", None) or ""))


def stop_token_ids(tokenizer: Any, model: Any = None) -> list[int]:
    """The eos id, the ids the model's generation config stops at, and the end-of-turn token that the chat
    template writes after an answer; sorted, without duplicates."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if configured is not None:
        ids |= set(configured) if isinstance(configured, list | tuple) else {configured}
    ids |= set(template_end_of_turn_ids(tokenizer))
    return sorted(int(token) for token in ids)


def template_end_of_turn_ids(tokenizer: Any) -> list[int]:
    """Ids of the known end-of-turn tokens that the chat template writes right after an assistant's answer."""
    try:
        rendered = tokenizer.apply_chat_template(TEMPLATE_SAMPLE, tokenize=False)
    except Exception:  # noqa: BLE001 - a template that cannot render the sample just adds no stop token
        return []
    answer = TEMPLATE_SAMPLE[-1]["content"]
    tail = rendered[rendered.rfind(answer) + len(answer) :]
    vocab = tokenizer.get_vocab()
    found = [(tail.find(token), token) for token in END_OF_TURN_TOKENS if token in vocab and token in tail]
    return [vocab[min(found)[1]]] if found else []
