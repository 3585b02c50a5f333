"""The built-in demo's task and dataset, and the SFT recipe with which LoRA visibly learns it.

The demo task, in one sentence: *the model is asked "Which city is mentioned?" about a short sentence and must answer
with just the city's name* (the sentence also mentions a person, so the model has to pick the right word).

Everything is generated locally, so the demo works without internet access:

* ``generate_demo_rows`` deterministically creates the chat dataset. The held-out rows use sentence shapes
  (templates) that never occur in the training rows, with new person/city combinations, so a good held-out score means
  the model learned to *extract* the city rather than to memorise the training questions.
* ``write_demo_dataset`` writes it to ``demo_data/train.jsonl`` and ``heldout.jsonl`` (committed files).
* The model (``workbench.models.demo``) is "pre-trained" on plain text about the same people and cities, never in the
  question/answer format, so it answers the demo questions badly until a short LoRA SFT run with
  ``DEMO_SFT_RECIPE`` teaches it to answer with just the city.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any


DEMO_DATA_DIR: Path = Path(__file__).resolve().parent / "demo_data"
DEMO_TRAIN_FILE: Path = DEMO_DATA_DIR / "train.jsonl"
DEMO_HELDOUT_FILE: Path = DEMO_DATA_DIR / "heldout.jsonl"

DEMO_QUESTION = "Which city is mentioned?"

# SFT hyperparameters with which LoRA learns the demo task on a 2-core CPU in well under a minute (160 optimizer
# steps). transformers 5 removed TrainingArguments.warmup_ratio: pass the ratio as ``warmup_steps`` (a float < 1).
DEMO_SFT_RECIPE: dict[str, Any] = {
    "method": "lora",
    "lora_r": 16,
    "lora_alpha": 32,
    "lora_dropout": 0.0,
    "target_modules": "all-linear",
    "learning_rate": 5e-3,
    "num_train_epochs": 10,
    "per_device_train_batch_size": 16,
    "max_length": 64,
    "lr_scheduler_type": "linear",
    "warmup_ratio": 0.05,
    "assistant_only_loss": True,
}
# An answer is a city (one or two tokens) plus the end-of-turn token; the spare tokens let run-on answers show.
DEMO_MAX_NEW_TOKENS: int = 8

NAMES: tuple[str, ...] = (
    "Maria", "Tom", "Aisha", "Lukas", "Chen", "Sofia", "Omar", "Elena", "Jonas", "Priya",
    "Mateo", "Hanna", "Kofi", "Ines", "Ravi", "Clara", "Yusuf", "Nora", "Pablo", "Mei",
    "Felix", "Amara", "Igor", "Lena", "Diego", "Sara", "Kenji", "Zoe", "Arjun", "Lucia",
)  # fmt: skip
CITIES: tuple[str, ...] = (
    "Lisbon", "Paris", "Berlin", "Madrid", "Rome", "Vienna", "Prague", "Oslo", "Dublin", "Athens",
    "Cairo", "Tokyo", "Lima", "Quito", "Nairobi", "Seoul", "Toronto", "Denver", "Boston", "Sydney",
    "Mumbai", "Hanoi", "Warsaw", "Zurich", "Helsinki", "Bogota", "Manila", "Lagos", "Geneva", "Porto",
    "Dakar", "Santiago",
)  # fmt: skip

# Sentences mentioning one person and one city. The training rows use only TRAIN_TEMPLATES; the held-out rows use only
# HELDOUT_TEMPLATES, so every held-out question is a sentence shape the fine-tuning never showed.
TRAIN_TEMPLATES: tuple[str, ...] = (
    "{name} took the train to {city} on Monday.",
    "Last summer {name} visited {city} with friends.",
    "In {city}, {name} opened a small bakery.",
    "{name} works at the museum in {city}.",
    "After the concert in {city}, {name} went home.",
    "{name} bought an old map of {city}.",
    "The letter from {city} was signed by {name}.",
    "{name} was born in {city} in the spring.",
    "Yesterday {name} flew to {city} for a meeting.",
)
HELDOUT_TEMPLATES: tuple[str, ...] = (
    "A friend in {city} sent {name} a postcard.",
    "{name} has lived in {city} for ten years.",
    "During the storm in {city}, {name} stayed inside.",
)
SENTENCE_TEMPLATES: tuple[str, ...] = TRAIN_TEMPLATES + HELDOUT_TEMPLATES

# Plain-text follow-ups used only for pre-training: they repeat the city or the name of the sentence before.
CITY_FOLLOW_UPS: tuple[str, ...] = (
    "{city} was busy that day.",
    "{city} is a large city.",
    "{city} has an old harbour and a market.",
    "{city} was cold and windy.",
)
NAME_FOLLOW_UPS: tuple[str, ...] = (
    "{name} was happy.",
    "{name} likes long walks.",
    "{name} wrote about it later.",
    "{name} stayed for a week.",
)

TRAIN_ROWS_PER_CITY = 8
HELDOUT_ROWS = 64


def fill_template(rng: random.Random, templates: tuple[str, ...], name: str, city: str) -> str:
    """One of ``templates``, chosen at random, filled with ``name`` and ``city``."""
    return rng.choice(templates).format(name=name, city=city)


def _chat_row(sentence: str, city: str) -> dict[str, list[dict[str, str]]]:
    """One demo conversation: the question about ``sentence`` and ``city`` as the answer."""
    return {
        "messages": [
            {"role": "user", "content": f"{DEMO_QUESTION} {sentence}"},
            {"role": "assistant", "content": city},
        ]
    }


def _unique_rows(rng: random.Random, templates: tuple[str, ...], cities: list[str]) -> list[dict]:
    """One row per entry of ``cities`` (a random person and template each), never repeating a sentence."""
    rows: list[dict] = []
    seen: set[str] = set()
    for city in cities:
        sentence = fill_template(rng, templates, rng.choice(NAMES), city)
        while sentence in seen:
            sentence = fill_template(rng, templates, rng.choice(NAMES), city)
        seen.add(sentence)
        rows.append(_chat_row(sentence, city))
    return rows


def generate_demo_rows(seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Deterministically generate the demo dataset as ``(train_rows, heldout_rows)``.

    Each row is ``{"messages": [user question, assistant answer]}``. Training rows (8 per city, 256 in all) are built
    from ``TRAIN_TEMPLATES``; the 64 held-out rows come from ``HELDOUT_TEMPLATES`` only, so no held-out
    question occurs in training and the model must extract the city from an unseen kind of sentence.
    """
    rng = random.Random(seed)
    train_rows = _unique_rows(rng, TRAIN_TEMPLATES, [city for city in CITIES for _ in range(TRAIN_ROWS_PER_CITY)])
    rng.shuffle(train_rows)
    heldout_cities = [CITIES[index % len(CITIES)] for index in range(HELDOUT_ROWS)]
    heldout_rows = _unique_rows(rng, HELDOUT_TEMPLATES, heldout_cities)
    rng.shuffle(heldout_rows)
    return train_rows, heldout_rows


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write ``rows`` as JSON Lines (UTF-8, one object per line)."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_demo_dataset() -> None:
    """(Re)write ``DEMO_TRAIN_FILE`` and ``DEMO_HELDOUT_FILE`` from ``generate_demo_rows``."""
    DEMO_DATA_DIR.mkdir(parents=True, exist_ok=True)
    train_rows, heldout_rows = generate_demo_rows()
    _write_jsonl(DEMO_TRAIN_FILE, train_rows)
    _write_jsonl(DEMO_HELDOUT_FILE, heldout_rows)
