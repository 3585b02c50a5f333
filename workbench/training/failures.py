"""Why a run failed, in one plain sentence with a fix, and a short code for the run record."""

import re
import signal
from dataclasses import dataclass

from workbench.errors import DISK_FULL_FIX, is_disk_full


@dataclass(frozen=True)
class Failure:
    """A classified failure: ``code`` for machines, ``message`` for people."""

    code: str
    message: str


CUDA_OOM = Failure(
    "cuda_oom",
    "The GPU ran out of memory, even after the automatic retries; use QLoRA, a shorter max length or a smaller "
    "batch, and start again.",
)
DISK_FULL = Failure("disk_full", f"The disk is full; {DISK_FULL_FIX}, then resume the run.")
HOST_OOM = Failure(
    "host_oom",
    "The training process was killed (signal 9), most often because the server ran out of memory; use a smaller "
    "model, batch or max length, or QLoRA.",
)


def is_cuda_oom(error: BaseException) -> bool:
    import torch

    return isinstance(error, torch.OutOfMemoryError) or "CUDA out of memory" in str(error)


def classify_exception(error: BaseException) -> Failure:
    """A failure for an exception raised inside the training process."""
    if is_cuda_oom(error):
        return CUDA_OOM
    if is_disk_full(error):
        return DISK_FULL
    if isinstance(error, MemoryError):
        return Failure("host_oom", "The server ran out of memory; use a smaller model, batch or max length.")
    text = f"{type(error).__name__}: {error}"[:200]
    return Failure("error", f"Training stopped with an error ({text}); the log below has the details.")


def classify_exit(exit_code: int | None, cancel_requested: bool, log_tail: str = "") -> tuple[str, Failure]:
    """The final state and failure of a training process that ended without writing its own final status (its
    last log lines say whether a full disk stopped it)."""
    if cancel_requested:
        return "cancelled", Failure("cancelled", "Cancelled; the process was stopped before it could save.")
    if exit_code is None:
        return "interrupted", Failure(
            "runner_lost",
            "The training process ended while no runner was watching; resume it from its last checkpoint.",
        )
    if "No space left on device" in log_tail or "database or disk is full" in log_tail:
        return "failed", DISK_FULL
    if exit_code == -signal.SIGKILL or exit_code == 128 + signal.SIGKILL:
        return "failed", HOST_OOM
    if exit_code < 0:
        return "failed", Failure("killed", f"The training process was stopped by signal {-exit_code}; resume it.")
    return "failed", Failure(
        "crashed", f"The training process stopped unexpectedly (exit code {exit_code}); see the log."
    )


def signal_exit(exit_code: int | None, log: str) -> int | None:
    """The launcher turns a child killed by a signal into exit code 1; recover the signal from its log line
    ("returned non-zero exit status -9", or Python's "died with <Signals.SIGKILL: 9>")."""
    if exit_code == 1:
        match = re.search(r"returned non-zero exit status (-\d+)|died with <Signals\.\w+: (\d+)>", log)
        if match:
            return int(match.group(1)) if match.group(1) else -int(match.group(2))
    return exit_code
