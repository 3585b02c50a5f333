"""Benchmark: validating a 100,000-row chat JSONL with token statistics, beside datasets + tokenisation of it.

    .venv/bin/python benchmarks/bench_validate.py [--rows 100000] [--model demo] [--max-length 512]

It writes a seeded synthetic chat JSONL (system, user, assistant; about 400 bytes a row) to a temporary folder, then
times, in the same process:

1. ours: ``workbench.data.validate_file`` (read, detect, validate every record, duplicates, placeholders, token
   lengths under the model's chat template, too-long rows and the answer tokens they lose), with the tokenizer
   already loaded;
2. the baseline: ``datasets.load_dataset("json")`` plus tokenising every row with the same chat template
   (``apply_chat_template`` with assistant masks, batched, as TRL does before training).

The target is ours <= 10 s on a 2-core machine. Loading the tokenizer (and importing transformers) is timed apart,
because both sides pay it once.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


VOCABULARY = (
    "the a an of to and in is it that for on with as was be by this are or at from have not but what all were "
    "when we there can your which their said if do will each about how up out them then she many some so these "
    "would other into has more her two like him see time could no make than first been its who now people my made "
    "over did down only way find use may water long little very after words called just where most know get through "
    "back much before go good new write our used me man too any day same right look think also around another came "
    "come work three must because does part even place well such here take why help put different away again off "
    "went old number great tell men say small every found still between name should home big give air line set own "
    "under read last never us left end along while might next sound below saw something thought both few those "
    "always show large often together asked house world going want school important until form food keep children "
    "feet land side without boy once animal life enough took four head above kind began almost live page got earth "
    "need far hand high year mother light country father let night picture being study second soon story since "
    "white ever paper hard near sentence better best across during today however sure knew try told young sun "
    "invoice refund account password order shipping delivery customer support payment subscription warranty"
)
WORDS = VOCABULARY.split()
SYSTEM_PROMPTS = (
    "You are a helpful assistant.",
    "You are a friendly support agent for an online shop. Answer briefly and politely.",
    "You answer questions about the company handbook.",
)


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + rng.choice((".", "?", "!", "."))


def write_dataset(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(rows):
            user = " ".join(sentence(rng, 4, 14) for _ in range(rng.randint(1, 2))) + f" (ticket {number})"
            answer = " ".join(sentence(rng, 6, 18) for _ in range(rng.randint(1, 4)))
            row = {
                "messages": [
                    {"role": "system", "content": rng.choice(SYSTEM_PROMPTS)},
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": answer},
                ]
            }
            handle.write(json.dumps(row) + "\n")


def timed(label: str, function: Callable[[], Any]) -> tuple[Any, float]:
    start, cpu = time.perf_counter(), time.process_time()
    result = function()
    wall = time.perf_counter() - start
    print(f"  {label:<58} {wall:7.2f} s wall  {time.process_time() - cpu:7.2f} s cpu", flush=True)
    return result, wall


def baseline(path: Path, tokenizer: Any, cache: Path) -> int:
    from datasets import load_dataset

    dataset = load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))

    def tokenise(batch: dict) -> dict:
        out = tokenizer.apply_chat_template(
            batch["messages"], tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        return {"input_ids": out["input_ids"], "assistant_masks": out["assistant_masks"]}

    tokenised = dataset.map(tokenise, batched=True, batch_size=1000, remove_columns=["messages"])
    return len(tokenised)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--model", default="demo", help="'demo', a model folder or hub id (tokenizer only)")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import datasets
    from transformers.utils import logging

    from workbench.data import sources, tokens

    datasets.disable_progress_bars()
    logging.set_verbosity_error()

    with tempfile.TemporaryDirectory(prefix="bench-validate-") as folder:
        path = Path(folder) / "chat.jsonl"
        write_dataset(path, args.rows)
        print(
            f"{args.rows:,} rows, {path.stat().st_size / 2**20:.1f} MB, {os.cpu_count()} CPU cores, "
            f"model {args.model!r}, max length {args.max_length}"
        )
        tokenizer, _ = timed(
            "load the tokenizer (import transformers; once for both)", lambda: tokens.tokenizer_for(args.model)
        )
        check = lambda: sources.validate_file(path, args.model, args.max_length)  # noqa: E731 - timed below
        report, ours = timed("ours: validate_file with token statistics", check)
        stats = report.tokens
        print(
            f"    ok={report.ok} rows={len(report.rows):,} duplicates={report.duplicates} too_long={report.too_long} "
            f"estimated lengths={stats.estimated:,} mean length={sum(stats.lengths) / len(stats.lengths):.0f} tokens"
        )
        if args.skip_baseline:
            return 0
        count, theirs = timed(
            "baseline: datasets.load_dataset('json') + apply_chat_template",
            lambda: baseline(path, tokenizer, Path(folder) / "cache"),
        )
        print(f"    tokenised rows={count:,}")
    print(
        f"ours {ours:.2f} s, baseline {theirs:.2f} s, ours/baseline = {ours / theirs:.2f} "
        f"({'within' if ours <= 10 else 'OVER'} the 10 s target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
