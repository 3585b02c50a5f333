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


def gpu_memory_gb() -> tuple[float, float] | None:
    """(free, total) memory of GPU 0 right now, all processes counted, from nvidia-smi; None without an NVIDIA GPU."""
    try:
        output = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.free,memory.total", "--format=csv,noheader,nounits", "--id=0"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        free, total = (float(value) / 1024 for value in output.strip().splitlines()[0].split(","))
        return free, total
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


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
