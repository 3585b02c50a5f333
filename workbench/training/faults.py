"""Fault injection for tests of failures that cannot happen on demand here (a CUDA out-of-memory error on a CPU-only
machine, a full disk). Off unless the environment variable ``WORKBENCH_FAULT`` is set, e.g.
``cuda_oom:step=2,batch_over=4`` (raise torch.OutOfMemoryError at step 2 while the micro-batch is above 4) or
``disk_full:step=2``. The real failure handling then runs exactly as it would for a real fault."""

import errno
import os
from typing import Any

from transformers import TrainerCallback


def fault_callbacks(batch_size: int) -> list[Any]:
    spec = os.environ.get("WORKBENCH_FAULT", "")
    if not spec:
        return []
    kind, _, options = spec.partition(":")
    values = dict(item.split("=", 1) for item in options.split(",") if "=" in item)
    return [InjectedFault(kind, int(values.get("step", 1)), int(values.get("batch_over", -1)), batch_size)]


class InjectedFault(TrainerCallback):
    """Raises the configured error at the configured step."""

    def __init__(self, kind: str, step: int, batch_over: int, batch_size: int) -> None:
        self.kind, self.step, self.batch_over, self.batch_size = kind, step, batch_over, batch_size

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step != self.step or self.batch_size <= self.batch_over:
            return
        if self.kind == "cuda_oom":
            import torch

            raise torch.OutOfMemoryError(
                "CUDA out of memory. Tried to allocate 2.00 GiB (injected by WORKBENCH_FAULT)"
            )
        if self.kind == "disk_full":
            raise OSError(errno.ENOSPC, "No space left on device (injected by WORKBENCH_FAULT)")
