"""The device a run trains on, as one type: CUDA or not, its name, and its total and free memory; and the readings
behind it (torch for the training device, ``nvidia-smi`` for what every process on the GPU leaves free, the host's
available RAM)."""

import os
import subprocess
from dataclasses import dataclass


GIB = 2**30  # "GB" in the app, as in the pre-flight estimate


@dataclass(frozen=True)
class Device:
    """Where a run trains, and how much memory it has (None where it could not be read)."""

    cuda: bool
    name: str
    total_gb: float | None = None
    free_gb: float | None = None


def device_info() -> Device:
    """GPU 0 when CUDA is available (with torch's view of its memory), else the CPU."""
    import torch

    if not torch.cuda.is_available():
        return Device(cuda=False, name=f"CPU ({os.cpu_count()} cores)")
    free, total = torch.cuda.mem_get_info()
    return Device(True, torch.cuda.get_device_name(0), total / GIB, free / GIB)


def default_method(device: Device) -> tuple[str, str]:
    """The method the form preselects, and the sentence that explains why."""
    if device.cuda:
        return "qlora", f"QLoRA is preselected: it needs the least GPU memory on the {device.name}."
    reason = (
        "No CUDA GPU was found, so LoRA is preselected: 4-bit QLoRA saves GPU memory, which a CPU does not "
        "need, and runs slower on a CPU."
    )
    return "lora", reason


@dataclass(frozen=True)
class Gpu:
    """One NVIDIA GPU as nvidia-smi sees it now, all processes counted."""

    index: int
    free_gb: float
    total_gb: float


def gpus() -> list[Gpu]:
    """Every NVIDIA GPU of this machine with its free and total memory now; [] without one (or without nvidia-smi).
    ``CUDA_VISIBLE_DEVICES`` given to this process limits the list, as it limits what training may use."""
    try:
        output = subprocess.run(
            ["nvidia-smi", "--query-gpu=index,memory.free,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        found = []
        for line in output.strip().splitlines():
            index, free, total = (value.strip() for value in line.split(","))
            found.append(Gpu(int(index), float(free) / 1024, float(total) / 1024))
    except (OSError, subprocess.SubprocessError, ValueError):
        return []
    visible = [part.strip() for part in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if part.strip()]
    if visible and all(part.isdigit() for part in visible):
        found = [gpu for gpu in found if str(gpu.index) in visible]
    return found


def gpu_memory_gb() -> tuple[float, float] | None:
    """(free, total) memory of the first GPU right now, all processes counted; None without an NVIDIA GPU."""
    found = gpus()
    return (found[0].free_gb, found[0].total_gb) if found else None


def host_available_gb() -> float | None:
    """Host RAM available right now, in GB (psutil when installed, else sysconf)."""
    try:
        import psutil

        return psutil.virtual_memory().available / GIB
    except ImportError:
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / GIB
        except (ValueError, OSError, AttributeError):
            return None


def most_processes(found: list[Gpu]) -> tuple[int, str]:
    """How many processes one local run may train in (its GPUs setting), and what the server has, in words: one per
    GPU, or on a server without GPUs one per CPU core (data parallel on CPUs: slow, for trying it out)."""
    if found:
        return len(found), f"{len(found)} GPU{'s' if len(found) != 1 else ''}"
    cores = os.cpu_count() or 1
    return cores, f"no GPU and {cores} CPU core{'s' if cores != 1 else ''}"
