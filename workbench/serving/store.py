"""The model server's loaded models: each base model loaded once, every run's adapter attached to it by name and
switched per request, the untouched base answering with the adapters disabled.

A full fine-tune (or a freeze run) saved every weight, so it is a model of its own. Loaded models are bounded by a
memory budget (``WORKBENCH_SERVER_MEMORY_GB``, least recently used released first) and released after an idle time
(``WORKBENCH_SERVER_IDLE_S``). Callers hold ``Store.lock`` while they use a model, since the active adapter is state
shared by every request.
"""

import gc
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import UserError
from workbench.jobs import gpu_share
from workbench.models import loading
from workbench.models.device import device_info, gpu_memory_gb
from workbench.models.rendering import Rendering
from workbench.serving.batched import BASE_ROW, Row
from workbench.serving.catalogue import Served
from workbench.serving.renderings import Renderings, base_rendering
from workbench.settings import number_setting


DEFAULT_MEMORY_GB = 24.0
DEFAULT_IDLE_S = 1800.0
GPU_WAIT_S = 1800.0  # how long a chat waits for training runs to leave room on the GPU
GPU_POLL_S = 2.0

Ask = tuple[Served, list[dict], str | None]  # one answer asked for: the model, its conversation, its reasoning


@dataclass
class Loaded:
    """One model in memory: a base (with the adapters attached so far) or a full fine-tune."""

    model: Any
    tokenizer: Any
    size_gb: float
    adapters: set[str] = field(default_factory=set)
    last_used: float = field(default_factory=time.monotonic)


@dataclass
class Ready:
    """What a request answers with: the model switched to the wanted adapter, its tokenizer and rendering."""

    model: Any
    tokenizer: Any
    rendering: Rendering
    base_off: bool  # the base itself answers: run inside ``model.disable_adapter()``

    def context(self) -> Any:
        return self.model.disable_adapter() if self.base_off else nullcontext()


class Store:
    """Loaded models by key (a base model's name, or a full fine-tune's run id)."""

    def __init__(
        self,
        memory_gb: float | None = None,
        idle_s: float | None = None,
        gpu_memory: Callable[[], tuple[float, float] | None] = gpu_memory_gb,
        jobs_yet_to_take: Callable[[], float] = gpu_share.jobs_yet_to_take_gb,
    ) -> None:
        """``gpu_memory`` (free and total GB, None without a GPU) and ``jobs_yet_to_take`` are the seams a test
        replaces to simulate a GPU shared with training runs."""
        self.gpu_memory, self.jobs_yet_to_take = gpu_memory, jobs_yet_to_take
        self.memory_gb = (
            memory_gb if memory_gb is not None else number_setting("WORKBENCH_SERVER_MEMORY_GB", DEFAULT_MEMORY_GB)
        )
        self.idle_s = idle_s if idle_s is not None else number_setting("WORKBENCH_SERVER_IDLE_S", DEFAULT_IDLE_S)
        self.loaded: dict[str, Loaded] = {}
        self.lock = threading.Lock()
        self.renderings = Renderings()

    @contextmanager
    def ready(self, served: Served, reasoning: str | None = None) -> Iterator[Ready]:
        """Hold the store for one request and give the model switched for ``served``."""
        with self.lock:
            self.release_idle()
            yield self._ready(served, reasoning)

    @contextmanager
    def ready_together(self, asked: Sequence[Ask]) -> Iterator[tuple[Any, list[Row]]]:
        """Hold the store for one batched request (each ask: the model, its conversation, its reasoning setting):
        the loaded base with every asked adapter attached, and a row per ask. Only for ``batchable`` asks."""
        with self.lock:
            self.release_idle()
            base = asked[0][0].base
            loaded = self._load(base, loading.resolve_model(base))
            rows = []
            for served, messages, reasoning in asked:
                if served.adapter is None:
                    rendering = base_rendering(loaded.tokenizer, reasoning)
                    rows.append(Row(BASE_ROW, loaded.tokenizer, rendering, messages))
                else:
                    self._attach(loaded, served)
                    rows.append(Row(served.adapter, *self.renderings.of_run(served), messages))
            yield loaded.model, rows

    def wait_for_gpu(self, served: Served, poll_s: float = GPU_POLL_S, timeout_s: float = GPU_WAIT_S) -> Iterator[str]:
        """A sentence every ``poll_s`` while the model ``served`` needs cannot be loaded on the GPU without taking
        memory a running training job has yet to take; ends when it can (at once on a CPU, or when it is loaded)."""
        key, path = weights_of(served)
        if key not in self.loaded:
            yield from wait_for_room(_folder_gb(path), self.gpu_memory, self.jobs_yet_to_take, poll_s, timeout_s)

    def _ready(self, served: Served, reasoning: str | None) -> Ready:
        if served.run is not None and not served.run.is_adapter:  # a full fine-tune: its own weights
            loaded = self._load(served.version, str(served.folder))
            tokenizer, rendering = self.renderings.of_run(served)
            return Ready(loaded.model, tokenizer, rendering, base_off=False)
        loaded = self._load(served.base, loading.resolve_model(served.base))
        if served.adapter is None:
            rendering = base_rendering(loaded.tokenizer, reasoning)
            return Ready(loaded.model, loaded.tokenizer, rendering, base_off=bool(loaded.adapters))
        self._attach(loaded, served)
        loaded.model.set_adapter(served.adapter)
        tokenizer, rendering = self.renderings.of_run(served)
        return Ready(loaded.model, tokenizer, rendering, base_off=False)

    def _load(self, key: str, path: str) -> Loaded:
        if key in self.loaded:
            self.loaded[key].last_used = time.monotonic()
            return self.loaded[key]
        tokenizer = loading.load_tokenizer(path)
        model = loading.load_model(path, "lora", device_info().cuda)
        model.eval()
        size = _size_gb(model)
        self._make_room(size)
        self.loaded[key] = Loaded(model, tokenizer, size)
        self._record_gpu()
        return self.loaded[key]

    def _attach(self, loaded: Loaded, served: Served) -> None:
        """Attach the run's adapter to its loaded base once (the first adapter turns the base into a PeftModel)."""
        name, folder = served.adapter, str(served.folder)
        if name in loaded.adapters:
            return
        if not loaded.adapters:
            from peft import PeftModel

            loaded.model = PeftModel.from_pretrained(loaded.model, folder, adapter_name=name)
        else:
            loaded.model.load_adapter(folder, adapter_name=name)
        loaded.model.eval()
        loaded.adapters.add(name)

    def _make_room(self, size_gb: float) -> None:
        """Release the least recently used models until ``size_gb`` more fits in the budget (one model always
        fits, so a model larger than the budget can still answer alone)."""
        while self.loaded and self.used_gb() + size_gb > self.memory_gb:
            oldest = min(self.loaded, key=lambda key: self.loaded[key].last_used)
            self.release(oldest)

    def release_idle(self) -> None:
        now = time.monotonic()
        for key in [key for key, loaded in self.loaded.items() if now - loaded.last_used > self.idle_s]:
            self.release(key)

    def release(self, key: str) -> None:
        self.loaded.pop(key, None)
        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        self._record_gpu()

    def _record_gpu(self) -> None:
        """Tell the runner how much GPU memory the loaded models hold (nothing is written on a CPU)."""
        held = sum(loaded.size_gb for loaded in self.loaded.values() if _on_gpu(loaded.model))
        if held or gpu_share.server_gpu_gb():  # a 0 is written only to correct an earlier record
            gpu_share.record_server_gpu(held)

    def used_gb(self) -> float:
        return sum(loaded.size_gb for loaded in self.loaded.values())

    def describe(self) -> list[dict[str, Any]]:
        """What is loaded, for the health endpoint."""
        return [
            {"model": key, "adapters": sorted(loaded.adapters), "size_gb": round(loaded.size_gb, 3)}
            for key, loaded in self.loaded.items()
        ]


def weights_of(served: Served) -> tuple[str, str]:
    """The name ``served``'s weights are loaded under (its base's, or a full fine-tune's own) and the folder (or hub
    id) they load from."""
    if served.run is not None and not served.run.is_adapter:
        return served.version, str(served.folder)
    return served.base, loading.resolve_model(served.base)


def wait_for_room(
    needed_gb: float,
    gpu_memory: Callable[[], tuple[float, float] | None],
    jobs_yet_to_take: Callable[[], float],
    poll_s: float = GPU_POLL_S,
    timeout_s: float = GPU_WAIT_S,
) -> Iterator[str]:
    """A sentence every ``poll_s`` while ``needed_gb`` cannot be taken on the GPU without taking memory a running
    training job has yet to take; ends when it can (at once on a CPU)."""
    deadline = time.monotonic() + timeout_s
    while (memory := gpu_memory()) is not None:
        yet_to_take = jobs_yet_to_take()
        if gpu_share.chat_fits(needed_gb, memory[0], yet_to_take):
            return
        if time.monotonic() > deadline:
            raise UserError(
                f"The GPU stayed busy with training for {timeout_s / 60:.0f} minutes; ask again when a run ends."
            )
        yield (
            f"Waiting for the GPU: training runs will still take {yet_to_take:.1f} GB of the {memory[0]:.1f} GB "
            f"free, and this model needs about {needed_gb:.1f} GB."
        )
        time.sleep(poll_s)


def batchable(asked: Sequence[Served]) -> bool:
    """Whether these answer from one batched call: two or more, on one base, each the base itself or a plain LoRA
    adapter (peft mixes no other kind in a batch), at least one an adapter."""
    if len(asked) < 2 or len({served.base for served in asked}) > 1:
        return False
    if any(served.run is not None and not served.run.is_adapter for served in asked):
        return False
    adapters = [served for served in asked if served.adapter is not None]
    return bool(adapters) and all(_plain_lora(served.folder) for served in adapters)


def _plain_lora(folder: Path) -> bool:
    try:
        config = json.loads((folder / "adapter_config.json").read_text())
    except (OSError, ValueError):
        return False
    variant = config.get("use_dora") or config.get("alora_invocation_tokens")
    return config.get("peft_type") == "LORA" and not variant


def _on_gpu(model: Any) -> bool:
    return next(model.parameters()).is_cuda


def _folder_gb(path: str) -> float:
    """The size of a model folder's weights (0 for a hub id, which is not a folder here)."""
    folder = Path(path)
    return sum(file.stat().st_size for file in folder.glob("*.safetensors")) / 1024**3 if folder.is_dir() else 0.0


def _size_gb(model: Any) -> float:
    return sum(p.numel() * p.element_size() for p in model.parameters()) / 1024**3
