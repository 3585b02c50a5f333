"""The vLLM engine (``WORKBENCH_SERVE_ENGINE=vllm``): a vLLM server per base model (or full fine-tune), started on
first use, with every run's LoRA adapter loaded into it by name; the base answers as itself.

The model server still writes every prompt (the run's saved chat template, ``renderings``) and sends vLLM the token
ids, with the rendering's end-of-turn ids as stop ids, so vLLM answers exactly the prompt training rendered. vLLM
batches concurrent requests itself, so side-by-side answers are sent together. One vLLM server runs at a time (each
takes ``WORKBENCH_VLLM_GPU_MEMORY`` of the GPU); asking for another base stops it, and an idle one stops after
``WORKBENCH_SERVER_IDLE_S``.
"""

import json
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from workbench.errors import UserError
from workbench.jobs import gpu_share
from workbench.models.device import device_info, gpu_memory_gb
from workbench.models.rendering import stop_token_ids
from workbench.serving import scoring
from workbench.serving.catalogue import Served
from workbench.serving.renderings import Renderings
from workbench.serving.side_by_side import Event
from workbench.serving.store import DEFAULT_IDLE_S, Ask, wait_for_room, weights_of
from workbench.serving.streaming import Sampling
from workbench.serving.visible import VisibleText
from workbench.serving.vllm_server import VllmServer
from workbench.settings import number_setting


class VllmEngine:
    """Answers through vLLM servers this process starts and stops."""

    def __init__(self) -> None:
        self.renderings = Renderings()
        self.servers: dict[str, VllmServer] = {}
        self.lock = threading.Lock()
        self.rendering_lock = threading.Lock()  # requests come on many threads; a tokenizer loads once, on one
        self.idle_s = number_setting("WORKBENCH_SERVER_IDLE_S", DEFAULT_IDLE_S)
        self.cuda = device_info().cuda

    def wait_for_gpu(self, served: Served) -> Iterator[str]:
        key, _ = weights_of(served)
        if key in self.servers:
            return
        if (memory := gpu_memory_gb()) is not None:
            from workbench.serving.vllm_server import gpu_share as share

            yield from wait_for_room(share() * memory[1], gpu_memory_gb, gpu_share.jobs_yet_to_take_gb)
        yield f"Starting vLLM for {key}: the first answer waits for it (about a minute)."

    @contextmanager
    def reply(self, served: Served, messages: list[dict], reasoning: str | None, how: Sampling) -> Iterator[Any]:
        server, name = self._serving(served)
        tokenizer, rendering = self._rendering(served, reasoning)
        yield VllmReply(server, name, tokenizer, rendering, messages, how)

    def answers(self, asks: Sequence[Ask], how: Sampling) -> Iterator[Event]:
        """Every answer asked for at once (vLLM batches them), their pieces as they come."""
        events: queue.Queue = queue.Queue()
        workers = [threading.Thread(target=self._answer, args=(ask, i, how, events), daemon=True) for i, ask in
                   enumerate(asks)]  # fmt: skip
        for worker in workers:
            worker.start()
        for _ in workers:
            while (event := events.get()) is not None:
                yield event
        for worker in workers:
            worker.join()

    def _answer(self, ask: Ask, index: int, how: Sampling, events: queue.Queue) -> None:
        served, messages, reasoning = ask
        try:
            for waiting in self.wait_for_gpu(served):
                events.put(Event(index, waiting=waiting))
            with self.reply(served, messages, reasoning, how) as reply:
                for piece in reply:
                    events.put(Event(index, text=piece))
            events.put(Event(index, finish_reason=reply.finish_reason))
        except UserError as error:
            events.put(Event(index, error=str(error)))
        except Exception as error:  # noqa: BLE001 - one answer that fails must say so, not vanish
            events.put(Event(index, error=f"This answer failed ({type(error).__name__}: {error})."))
        finally:
            events.put(None)

    def answer_loss(self, served: Served, messages: list[dict], reasoning: str | None) -> tuple[int, float]:
        server, name = self._serving(served)
        tokenizer, rendering = self._rendering(served, reasoning)
        input_ids, labels = scoring.scored_tokens(tokenizer, rendering, messages, server.max_model_len())
        body = {"model": name, "prompt": input_ids, "max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 0}
        with server.call("/v1/completions", body) as response:
            logprobs = json.loads(response.read())["choices"][0]["prompt_logprobs"]
        answer = [
            logprobs[position][str(token)]["logprob"]
            for position, (token, label) in enumerate(zip(input_ids, labels, strict=True))
            if label != scoring.IGNORED
        ]
        return len(answer), scoring.finite(-sum(answer) / len(answer))

    def _rendering(self, served: Served, reasoning: str | None) -> tuple[Any, Any]:
        with self.rendering_lock:  # two threads importing transformers at once saw half a module (ImportError)
            return self.renderings.of(served, reasoning)

    def _serving(self, served: Served) -> tuple[VllmServer, str]:
        """The running vLLM server for ``served`` (started, and others stopped, when needed) and the name to ask."""
        key, path = weights_of(served)
        with self.lock:
            self._stop_idle()
            server = self.servers.get(key)
            if server is None or not server.alive():
                server = self._start(key, path)
            server.last_used = time.monotonic()
            if served.adapter is not None:
                server.load_adapter(served.adapter, served.folder)
        return server, served.adapter or key

    def _start(self, key: str, path: str) -> VllmServer:
        for other in list(self.servers):
            self._stop(other)
        server = VllmServer(key, path, self.cuda)
        self.servers[key] = server
        try:
            server.wait_until_ready()
        except UserError:
            self.servers.pop(key, None)
            raise
        self._record_gpu()
        return server

    def _stop_idle(self) -> None:
        now = time.monotonic()
        for key in [key for key, server in self.servers.items() if now - server.last_used > self.idle_s]:
            self._stop(key)

    def _stop(self, key: str) -> None:
        self.servers.pop(key).stop()
        self._record_gpu()

    def _record_gpu(self) -> None:
        from workbench.serving.vllm_server import gpu_share as share

        memory = gpu_memory_gb() if self.cuda else None
        held = share() * memory[1] * len(self.servers) if memory else 0.0
        if held or gpu_share.server_gpu_gb():
            gpu_share.record_server_gpu(held)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"model": key, "adapters": sorted(server.adapters), "vllm": server.url, "pid": server.process.pid}
            for key, server in self.servers.items()
        ]

    def close(self) -> None:
        with self.lock:
            for key in list(self.servers):
                self._stop(key)


class VllmReply:
    """One answer streamed from vLLM's completions endpoint, its prompt given as token ids."""

    def __init__(
        self, server: VllmServer, name: str, tokenizer: Any, rendering: Any, messages: list[dict], how: Sampling
    ) -> None:
        self.server, self.name, self.how = server, name, how
        self.tokenizer, self.rendering = tokenizer, rendering
        self.input_ids = tokenizer(rendering.prompt(tokenizer, list(messages)), add_special_tokens=False)["input_ids"]
        self.prompt_tokens, self.completion_tokens = len(self.input_ids), 0
        self.finish_reason = "stop"

    def body(self) -> dict[str, Any]:
        how = self.how
        return {
            "model": self.name,
            "prompt": self.input_ids,
            "max_tokens": how.max_tokens,
            "temperature": how.temperature,
            "top_p": how.top_p,
            "repetition_penalty": how.repetition_penalty,
            "seed": how.seed,
            "stop": list(how.stop) or None,
            "stop_token_ids": stop_token_ids(self.tokenizer, self.rendering),
            "skip_special_tokens": True,
            "stream": True,
            "stream_options": {"include_usage": True},
        }

    def __iter__(self) -> Iterator[str]:
        visible = VisibleText(self.tokenizer, self.rendering, self.how.stop)
        with self.server.call("/v1/completions", self.body()) as response:
            for event in _events(response):
                if "error" in event:
                    raise UserError(f"vLLM could not answer: {self.server.failure(_message(event))}")
                if event.get("usage"):
                    self.completion_tokens = int(event["usage"].get("completion_tokens") or 0)
                for choice in event.get("choices") or []:
                    if shown := visible.feed(choice.get("text") or ""):
                        yield shown
                    self.finish_reason = choice.get("finish_reason") or self.finish_reason
                if visible.stopped:
                    self.finish_reason = "stop"
                    return
        if shown := visible.finish():
            yield shown


def _message(event: dict[str, Any]) -> str:
    error = event["error"]
    return str(error.get("message") if isinstance(error, dict) else error)[:300]


def _events(response: Any) -> Iterator[dict[str, Any]]:
    for raw in response:
        line = raw.decode("utf-8").strip()
        if line.startswith("data: ") and line != "data: [DONE]":
            yield json.loads(line.removeprefix("data: "))
