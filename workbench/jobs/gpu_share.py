"""Sharing one GPU between training jobs and the model server: the one place that counts who holds or will hold its
memory.

Training jobs count with their pre-flight estimate of peak memory (times ``SHARE_MARGIN``) until they have taken it;
the model server records what its loaded models hold in ``model-server-gpu.json``. The runner starts a job beside
others only when all of that fits the GPU; the model server loads a model only when it fits in the memory free now
minus what running jobs have yet to take, and otherwise waits, so a chat never makes a training run run out of memory.
"""

import json
import os
from pathlib import Path

from workbench import paths
from workbench.jobs import processes, queue
from workbench.runs import directory


SHARE_MARGIN = 1.2  # the pre-flight estimate is an estimate: ask for 20% more than it says
SHARE_HEADROOM_GB = 2.0  # and leave this much free besides
CHAT_HEADROOM_GB = 0.5  # what a model needs beyond its weights to answer a chat (activations, the KV cache)


def _server_file() -> Path:
    return paths.workbench_home() / "model-server-gpu.json"


def record_server_gpu(held_gb: float) -> None:
    """Say how much GPU memory this process (the model server) holds with its loaded models."""
    record = {"gb": held_gb, "pid": os.getpid(), "start": processes.process_start_time(os.getpid())}
    temporary = _server_file().with_suffix(".tmp")
    temporary.write_text(json.dumps(record))
    temporary.replace(_server_file())


def server_gpu_gb() -> float:
    """GPU memory the model server holds now: 0 when it has recorded nothing or its process has gone."""
    try:
        record = json.loads(_server_file().read_text())
        held, pid = float(record["gb"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0
    return held if processes.process_alive(pid, record.get("start")) else 0.0


def jobs_yet_to_take_gb() -> float:
    """GPU memory running jobs will still take: each one's estimate (with the margin) less what it holds now."""
    total = 0.0
    for job in queue.list_jobs(("starting", "running")):
        if job.peak_gb is None:
            continue
        status = directory.read_status(directory.run_dir(job.run_id))
        held = status.memory_gb if status.memory_place == "GPU memory" and status.memory_gb else 0.0
        total += max(0.0, job.peak_gb * SHARE_MARGIN - held)
    return total


def chat_fits(model_gb: float, free_gb: float, yet_to_take_gb: float) -> bool:
    """True when a model of ``model_gb`` may be loaded for chat with ``free_gb`` free on the GPU now."""
    return model_gb * SHARE_MARGIN + CHAT_HEADROOM_GB <= free_gb - yet_to_take_gb


def jobs_fit(peaks_gb: list[float], total_gb: float) -> bool:
    """True when jobs with these estimates fit the whole GPU beside what the model server holds."""
    return sum(peaks_gb) * SHARE_MARGIN + SHARE_HEADROOM_GB + server_gpu_gb() <= total_gb


def job_fits_now(peak_gb: float, free_gb: float) -> bool:
    """True when a job of ``peak_gb`` fits in the GPU memory free right now."""
    return peak_gb * SHARE_MARGIN + SHARE_HEADROOM_GB <= free_gb
