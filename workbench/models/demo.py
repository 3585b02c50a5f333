"""The built-in demo model: a tiny Llama model with its own byte-level BPE tokenizer, built offline in seconds.

It has a ChatML chat template with ``{% generation %}`` markers (so TRL's ``assistant_only_loss=True`` works) and is
"pre-trained" for a few seconds on plain text about the demo world's people and cities
(``workbench.models.demo_task``), never in the question/answer format. So the base model answers the demo questions
badly (it rambles on), and a short LoRA SFT run with ``demo_task.DEMO_SFT_RECIPE`` teaches it to answer with the city
alone. Why the pre-training: LoRA on a randomly initialised model barely learns anything.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from workbench.models.demo_task import (
    CITIES,
    CITY_FOLLOW_UPS,
    DEMO_QUESTION,
    NAME_FOLLOW_UPS,
    NAMES,
    SENTENCE_TEMPLATES,
    fill_template,
)


SPECIAL_TOKENS: tuple[str, ...] = ("<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>")

# ChatML with {% generation %} markers around the assistant's content, so TRL can build assistant-only loss masks.
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\n' }}"
    "{% else %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Model size and pre-training schedule: about 15 s of pre-training on 2 CPU cores. Fewer steps, a lower learning rate
# or fewer documents repeating the city made the copying skill appear only for some seeds (and then SFT fails).
MODEL_SEED = 0
TOKENIZER_VOCAB_SIZE = 768
MODEL_SHAPE: dict[str, int] = {
    "hidden_size": 64,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 256,
}
PRETRAIN_DOCUMENTS = 4000
PRETRAIN_STEPS = 300
PRETRAIN_BATCH_SIZE = 32
PRETRAIN_LEARNING_RATE = 2e-2
# Shares of pre-training documents whose second line repeats the city / the person (the rest: another sentence).
PRETRAIN_CITY_SHARE = 0.6
PRETRAIN_NAME_SHARE = 0.3

ProgressCallback = Callable[[float, str], None]


def _pretraining_documents(rng: random.Random, count: int) -> list[str]:
    """Plain-text documents about the demo world (all names and cities), never in the question/answer format.

    Most documents are a sentence followed, on a new line, by a remark that repeats either its city or its person:
    this teaches the model the words and to copy a word it saw earlier, but not which one the demo question wants.
    """
    documents: list[str] = []
    for _ in range(count):
        name, city = rng.choice(NAMES), rng.choice(CITIES)
        sentence = fill_template(rng, SENTENCE_TEMPLATES, name, city)
        kind = rng.random()
        if kind < PRETRAIN_CITY_SHARE:
            follow_up = rng.choice(CITY_FOLLOW_UPS).format(city=city)
        elif kind < PRETRAIN_CITY_SHARE + PRETRAIN_NAME_SHARE:
            follow_up = rng.choice(NAME_FOLLOW_UPS).format(name=name)
        else:
            follow_up = fill_template(rng, SENTENCE_TEMPLATES, rng.choice(NAMES), rng.choice(CITIES))
        documents.append(f"{sentence}\n{follow_up}")
    return documents


def _tokenizer_corpus(documents: list[str]) -> Iterator[str]:
    """Text to train the BPE tokenizer on: the pre-training documents plus the demo question."""
    yield from documents
    yield DEMO_QUESTION


def _train_tokenizer(documents: list[str]) -> Any:
    """Train the demo's byte-level BPE tokenizer on the demo world, with the ChatML template."""
    return train_bpe_tokenizer(
        _tokenizer_corpus(documents), TOKENIZER_VOCAB_SIZE, CHAT_TEMPLATE, MODEL_SHAPE["max_position_embeddings"]
    )


def train_bpe_tokenizer(
    corpus: Iterable[str], vocab_size: int, chat_template: str | None, model_max_length: int | None = None
) -> Any:
    """A byte-level BPE tokenizer trained on ``corpus`` with ChatML's special tokens, as a transformers fast tokenizer
    (also used by the tests to try other chat templates)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        show_progress=False,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(corpus, trainer)
    extra = {"model_max_length": model_max_length} if model_max_length else {}
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|pad|>",
        additional_special_tokens=["<|im_start|>"],
        chat_template=chat_template,
        **extra,
    )


def _new_model(tokenizer: Any) -> Any:
    """A freshly initialised tiny LlamaForCausalLM matching ``tokenizer``."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **MODEL_SHAPE,
    )
    return LlamaForCausalLM(config)


def _batches(token_ids: list[list[int]], pad_id: int, steps: int, batch_size: int, seed: int) -> Iterator[tuple]:
    """Yield ``steps`` random padded batches ``(input_ids, attention_mask, labels)`` of pre-training documents."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        picks = torch.randint(len(token_ids), (batch_size,), generator=generator).tolist()
        chosen = [token_ids[index] for index in picks]
        width = max(len(ids) for ids in chosen)
        input_ids = torch.full((batch_size, width), pad_id, dtype=torch.long)
        attention_mask = torch.zeros((batch_size, width), dtype=torch.long)
        for row, ids in enumerate(chosen):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            attention_mask[row, : len(ids)] = 1
        labels = input_ids.masked_fill(attention_mask == 0, -100)
        yield input_ids, attention_mask, labels


def _pretrain(model: Any, tokenizer: Any, documents: list[str], progress: ProgressCallback | None) -> float:
    """Full-parameter causal-LM training on ``documents`` with a plain torch loop; returns the last loss."""
    import torch

    token_ids = [[tokenizer.bos_token_id, *tokenizer(text)["input_ids"], tokenizer.eos_token_id] for text in documents]
    optimizer = torch.optim.AdamW(model.parameters(), lr=PRETRAIN_LEARNING_RATE, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=PRETRAIN_LEARNING_RATE, total_steps=PRETRAIN_STEPS, pct_start=0.1
    )
    model.train()
    loss_value = float("nan")
    batches = _batches(token_ids, tokenizer.pad_token_id, PRETRAIN_STEPS, PRETRAIN_BATCH_SIZE, MODEL_SEED)
    for step, (input_ids, attention_mask, labels) in enumerate(batches, start=1):
        loss = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        loss_value = loss.item()
        if progress is not None and (step % 25 == 0 or step == PRETRAIN_STEPS):
            progress(
                0.1 + 0.85 * step / PRETRAIN_STEPS, f"Pre-training step {step}/{PRETRAIN_STEPS}, loss {loss_value:.3f}"
            )
    model.eval()
    return loss_value


def build_demo_model(target_dir: Path, progress: ProgressCallback | None = None) -> Path:
    """Build the tiny demo model and its tokenizer offline and save both to ``target_dir``; return ``target_dir``.

    The result loads with ``AutoModelForCausalLM.from_pretrained`` / ``AutoTokenizer.from_pretrained``. The model is
    written to a temporary sibling folder first and renamed at the end, so an interrupted build leaves no half folder.
    An existing ``target_dir`` is replaced.
    """
    import torch

    def report(fraction: float, message: str) -> None:
        """Forward a progress update to ``progress`` if one was given."""
        if progress is not None:
            progress(fraction, message)

    target_dir = Path(target_dir)
    report(0.0, "Generating pre-training text")
    documents = _pretraining_documents(random.Random(MODEL_SEED), PRETRAIN_DOCUMENTS)
    report(0.05, "Training the tokenizer")
    tokenizer = _train_tokenizer(documents)
    torch.manual_seed(MODEL_SEED)
    model = _new_model(tokenizer)
    report(0.1, "Pre-training the model")
    _pretrain(model, tokenizer, documents, progress)
    report(0.95, "Saving")
    _save_atomically(model, tokenizer, target_dir)
    report(1.0, "Demo model ready")
    return target_dir


def _save_atomically(model: Any, tokenizer: Any, target_dir: Path) -> None:
    """Save ``model`` and ``tokenizer`` into a temporary sibling folder, then swap it in place of ``target_dir``."""
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.building.", dir=target_dir.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if target_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.old.", dir=target_dir.parent))
            target_dir.rename(old / target_dir.name)
            staging.rename(target_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
