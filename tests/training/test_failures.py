"""Tests for workbench.failures: each failure becomes one plain sentence with a fix."""

import errno
import signal

import pytest
import torch

from workbench.training import failures


def test_exceptions_are_classified():
    assert failures.classify_exception(torch.OutOfMemoryError("CUDA out of memory.")).code == "cuda_oom"
    assert failures.classify_exception(RuntimeError("CUDA out of memory. Tried to allocate")).code == "cuda_oom"
    assert failures.classify_exception(OSError(errno.ENOSPC, "No space left on device")).code == "disk_full"
    other = failures.classify_exception(ValueError("bad things"))
    assert other.code == "error" and "ValueError: bad things" in other.message


def test_exit_codes_are_classified():
    assert failures.classify_exit(-signal.SIGKILL, False) == ("failed", failures.HOST_OOM)
    assert failures.classify_exit(None, False)[0] == "interrupted"
    assert failures.classify_exit(-signal.SIGKILL, True)[0] == "cancelled"
    state, failure = failures.classify_exit(3, False)
    assert state == "failed" and "exit code 3" in failure.message


def test_every_message_is_one_sentence_with_a_fix():
    for failure in (failures.CUDA_OOM, failures.DISK_FULL, failures.HOST_OOM):
        assert failure.message.count(". ") == 0 and failure.message.endswith(".")
        assert any(word in failure.message for word in ("use", "delete", "start"))


@pytest.mark.parametrize(
    ("log", "code"),
    [
        (
            "CalledProcessError: Command '[...workbench.training...]' died with <Signals.SIGKILL: 9>.",
            -9,
        ),
        ("returned non-zero exit status -9.", -9),
        ("Traceback ... ValueError", 1),
    ],
)
def test_a_launcher_exit_is_traced_back_to_the_signal_in_its_log(log, code):
    # Regression: accelerate's "died with <Signals.SIGKILL: 9>" read as "exit code 1", hiding the out-of-memory advice.
    assert failures.signal_exit(1, log) == code
