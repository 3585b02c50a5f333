"""Running work on untrusted input in a child process with a memory and a time limit, so that one hostile or huge
file can neither take the web server's memory nor hold the thread that serves everyone else.

The child is forked from a ``multiprocessing`` fork server (started once, single-threaded, with the heavy imports
done), so a call costs milliseconds, not an interpreter start. ``WORKBENCH_CHECK_MEMORY_GB`` (default 2) is the
memory the work may add to what the child starts with; ``WORKBENCH_CHECK_TIMEOUT_S`` (default 300) its time.
"""

import multiprocessing
import os
import resource
from collections.abc import Callable
from typing import Any

from workbench.errors import UserError
from workbench.settings import number_setting


PRELOAD = ["workbench.data.checking"]  # imported once in the fork server, before any child is forked


def memory_budget_bytes() -> int:
    return int(number_setting("WORKBENCH_CHECK_MEMORY_GB", 2.0) * 2**30)


def timeout_s() -> float:
    return number_setting("WORKBENCH_CHECK_TIMEOUT_S", 300.0)


_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def run_bounded(work: Callable[..., Any], *args: Any, what: str = "checking the file") -> Any:
    """``work(*args)`` in a child process; its result, or a UserError when it ran out of memory or time (or raised
    one itself). ``work`` must be a module-level function and its arguments and result picklable."""
    receiver, sender = _context.Pipe(duplex=False)
    here = (dict(os.environ), os.getcwd())  # the fork server keeps the environment it started with; pass ours
    child = _context.Process(target=_child, args=(sender, work, args, memory_budget_bytes(), here), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s()):
            raise UserError(
                f"{what.capitalize()} took longer than {timeout_s():.0f} s, this server's limit; split the file."
            )
        kind, payload = receiver.recv()
    except EOFError:  # the child died without a word: the kernel killed it, most often for memory
        kind, payload = "memory", None
    finally:
        child.kill()
        child.join()
        receiver.close()
    return _outcome(kind, payload, what)


def _outcome(kind: str, payload: Any, what: str) -> Any:
    if kind == "ok":
        return payload
    if kind == "user":
        raise UserError(payload)
    if kind == "memory":
        budget = memory_budget_bytes() / 2**30
        raise UserError(
            f"{what.capitalize()} needed more than {budget:g} GB of memory, this server's limit; split the file."
        )
    raise UserError(f"{what.capitalize()} failed ({payload}); the file may be damaged, so export it again.")


def _child(sender: Any, work: Callable[..., Any], args: tuple, budget: int, here: tuple[dict, str]) -> None:
    environment, folder = here
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(folder)
    _limit_memory(budget)
    try:
        message = ("ok", work(*args))
    except MemoryError:
        message = ("memory", None)
    except UserError as error:
        message = ("user", str(error))
    except BaseException as error:  # noqa: BLE001 - whatever went wrong is reported to the parent in words
        message = ("crash", f"{type(error).__name__}: {str(error)[:200]}")
    try:
        sender.send(message)
    except MemoryError:
        sender.send(("memory", None))


def _limit_memory(budget: int) -> None:
    """Cap this process's address space at what it holds now plus ``budget``."""
    with open("/proc/self/statm") as statm:
        virtual = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (virtual + budget, resource.RLIM_INFINITY))
