"""Benchmark: the model server against plain transformers ``generate`` on the same model and prompt, in one run.

    .venv/bin/python benchmarks/bench_model_server.py [--model demo] [--tokens 128] [--repeats 5] [--concurrent 8]

In a temporary data folder it makes two finished runs whose adapters sit on the same base (fresh LoRA adapters:
their speed is what matters here, not what they learned), starts a real model server (``workbench serve``) and
measures, each as the median of ``--repeats`` tries after a warm-up:

1. time to first token and decode speed (tokens per second after the first) of the base model, streamed through the
   server's OpenAI API, against ``generate`` with a ``TextIteratorStreamer`` in this process; the goal is a ratio of
   at least 0.95 for decode speed;
2. switching between the two adapters (a request to each in turn) against loading the base model afresh;
3. ``--concurrent`` chat requests at once: the time until all have answered and the slowest one's wait;
4. the Playground's three columns (the base and the two runs) answered by one side-by-side request, which the
   server answers with one batched ``generate``, against three requests one after another.

The prompt ends where the demo base model rambles on, so every answer runs to ``--tokens``.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


PROMPT = [{"role": "user", "content": "Tell me about the city."}]


def make_run(name: str, model: str) -> str:
    from peft import LoraConfig, get_peft_model

    from workbench.config import RunConfig
    from workbench.models import loading
    from workbench.models.rendering import rendering_for
    from workbench.runs import directory

    run = directory.create_run(RunConfig(model=model, run_name=name))
    path = loading.resolve_model(model)
    tokenizer = loading.load_tokenizer(path)
    adapter = get_peft_model(loading.load_model(path), LoraConfig(r=8, target_modules="all-linear"))
    adapter.save_pretrained(run.adapter_dir)
    tokenizer.save_pretrained(run.adapter_dir)
    rendering_for(tokenizer).save(run.adapter_dir)
    directory.update_status(run.path, state="succeeded")
    return run.run_id


def plain_stream(model_name: str, tokens: int) -> tuple[float, float]:
    """(seconds to the first piece, tokens per second after it) of ``generate`` streamed in this process."""
    from transformers import TextIteratorStreamer

    from workbench.models import loading
    from workbench.models.rendering import rendering_for

    path = loading.resolve_model(model_name)
    tokenizer, model = loading.load_tokenizer(path), loading.load_model(path).eval()
    prompt = rendering_for(tokenizer).prompt(tokenizer, PROMPT)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)

    def once() -> tuple[float, float]:
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = dict(**inputs, streamer=streamer, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
        start = time.perf_counter()
        worker = threading.Thread(target=model.generate, kwargs=kwargs)
        worker.start()
        first = None
        for piece in streamer:
            if piece and first is None:
                first = time.perf_counter()
        worker.join()
        return first - start, (tokens - 1) / (time.perf_counter() - first)

    once()
    return _medians([once() for _ in range(ARGS.repeats)])


def served_stream(client, model_id: str, tokens: int) -> tuple[float, float]:
    def once() -> tuple[float, float]:
        start = time.perf_counter()
        stream = client.chat.completions.create(
            model=model_id, messages=PROMPT, max_tokens=tokens, stream=True, stream_options={"include_usage": True}
        )
        first, count = None, tokens
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content and first is None:
                first = time.perf_counter()
            if chunk.usage is not None:
                count = chunk.usage.completion_tokens
        end = time.perf_counter()
        return first - start, (count - 1) / (end - first)

    once()
    return _medians([once() for _ in range(ARGS.repeats)])


def switching(client, run_ids: list[str]) -> tuple[float, float]:
    """Median seconds of a one-token request that has to switch adapters, and of one that stays on the same."""
    switched, same = [], []
    for turn in range(ARGS.repeats * 2):
        for model_id, times in ((run_ids[turn % 2], switched), (run_ids[turn % 2], same)):
            start = time.perf_counter()
            client.chat.completions.create(model=model_id, messages=PROMPT, max_tokens=1)
            times.append(time.perf_counter() - start)
    return statistics.median(switched), statistics.median(same)


def base_load(model_name: str) -> float:
    from workbench.models import loading

    path = loading.resolve_model(model_name)
    times = []
    for _ in range(ARGS.repeats):
        start = time.perf_counter()
        loading.load_tokenizer(path), loading.load_model(path).eval()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def concurrent(client, model_id: str, count: int, tokens: int) -> tuple[float, float]:
    def one(_: int) -> float:
        start = time.perf_counter()
        client.chat.completions.create(model=model_id, messages=PROMPT, max_tokens=tokens)
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        waits = list(pool.map(one, range(count)))
    return time.perf_counter() - start, max(waits)


def side_by_side(server, client, run_ids: list[str], tokens: int) -> tuple[float, float]:
    """Median seconds until the base and the runs have all answered: one side-by-side request, and one request
    per model one after another."""
    from workbench.serving import client as workbench_client

    models = [ARGS.model, *run_ids]
    asked = [{"model": model, "messages": PROMPT} for model in models]
    together, apart = [], []
    for _ in range(ARGS.repeats + 1):  # the first round warms up
        start = time.perf_counter()
        list(workbench_client.stream_side_by_side(server, asked, max_tokens=tokens))
        together.append(time.perf_counter() - start)
        start = time.perf_counter()
        for model in models:
            client.chat.completions.create(model=model, messages=PROMPT, max_tokens=tokens)
        apart.append(time.perf_counter() - start)
    return statistics.median(together[1:]), statistics.median(apart[1:])


def _medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def main() -> None:
    import openai

    from workbench.serving import process

    run_ids = [make_run(f"bench-{index}", ARGS.model) for index in range(2)]
    server = process.ensure_server()
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.key, timeout=600)
    try:
        plain_first, plain_rate = plain_stream(ARGS.model, ARGS.tokens)
        served_first, served_rate = served_stream(client, ARGS.model, ARGS.tokens)
        (switch, same), load = switching(client, run_ids), base_load(ARGS.model)
        total, slowest = concurrent(client, ARGS.model, ARGS.concurrent, ARGS.tokens)
        together, apart = side_by_side(server, client, run_ids, ARGS.tokens)
    finally:
        os.kill(server.pid, 9)
    print(f"model {ARGS.model}, {ARGS.tokens} tokens, median of {ARGS.repeats}")
    print(f"first token: plain {plain_first * 1000:.1f} ms, server {served_first * 1000:.1f} ms")
    print(
        f"decode: plain {plain_rate:.0f} tok/s, server {served_rate:.0f} tok/s, ratio {served_rate / plain_rate:.2f}"
    )
    print(
        f"1-token request: switching adapters {switch * 1000:.1f} ms, same adapter {same * 1000:.1f} ms; "
        f"loading the base afresh {load * 1000:.1f} ms"
    )
    print(f"{ARGS.concurrent} concurrent requests: all answered in {total:.2f} s, slowest waited {slowest:.2f} s")
    print(
        f"base + {len(run_ids)} runs side by side: one batched request {together:.2f} s, one after another "
        f"{apart:.2f} s ({apart / together:.2f}x)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=8)
    ARGS = parser.parse_args()
    os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="bench-server-"))
    Path(os.environ["WORKBENCH_HOME"]).mkdir(parents=True, exist_ok=True)
    sys.exit(main())
