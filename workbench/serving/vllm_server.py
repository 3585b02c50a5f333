"""One vLLM server, started by the model server for one base model: its command line, its start (ready when its
``/health`` answers), its LoRA adapters loaded by name at run time, and its stop. It listens on localhost with a key
of its own, logs into the data folder's ``serve/`` folder, and ends when the model server does (``vllm_guard``), so
it is never left holding a GPU.

Settings: ``WORKBENCH_VLLM_PYTHON`` (the Python that has vLLM; vLLM pins its own torch and transformers, so it often
lives in a virtual environment of its own), ``WORKBENCH_VLLM_GPU_MEMORY`` (the share of the GPU it takes, 0.4),
``WORKBENCH_VLLM_MAX_LORA_RANK`` (64), ``WORKBENCH_VLLM_MAX_MODEL_LEN`` (8192 at most), ``WORKBENCH_VLLM_ARGS``
(more arguments for ``vllm serve``), ``WORKBENCH_VLLM_START_S`` (how long a start may take, 600).
"""

import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from workbench import paths
from workbench.errors import UserError
from workbench.jobs.processes import free_port
from workbench.settings import number_setting


HOST = "127.0.0.1"
DEFAULT_GPU_SHARE = 0.4
DEFAULT_MAX_LORA_RANK = 64
DEFAULT_MAX_MODEL_LEN = 8192
DEFAULT_START_S = 600.0
_NOTICES = ("EngineDeadError", "EngineCore encountered", "Worker failed with error")  # they only point at the cause
CPU_MIN_HEAD_DIM = 32  # vLLM 0.32's CPU attention kernels
CPU_KV_CACHE_GB = "1"  # vLLM on a CPU reserves this much memory for its KV cache unless VLLM_CPU_KVCACHE_SPACE says


class VllmServer:
    """A running vLLM server for the model at ``path``, answering as ``name`` and as each loaded adapter's name."""

    def __init__(self, name: str, path: str, cuda: bool) -> None:
        if not cuda and (head := _head_dim(path)) and head < CPU_MIN_HEAD_DIM:
            raise UserError(
                f"vLLM on a CPU needs attention heads of {CPU_MIN_HEAD_DIM} or more dimensions and {name} has "
                f"{head}; serve it with WORKBENCH_SERVE_ENGINE=transformers (the default) on this server."
            )
        self.name, self.path, self.cuda, self.key = name, path, cuda, secrets.token_urlsafe(24)
        self.port = free_port(HOST)
        self.url = f"http://{HOST}:{self.port}"
        self.adapters: set[str] = set()
        self.last_used = time.monotonic()
        self.log_path = paths.workbench_home() / "serve" / f"vllm-{_safe(name)}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workbench.serving.vllm_guard", "--", *self.command()],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_environment(cuda),
                start_new_session=True,  # the guard and vLLM in a group of their own, stopped together
            )

    def command(self) -> list[str]:
        python = os.environ.get("WORKBENCH_VLLM_PYTHON") or sys.executable
        return [
            python, "-m", "vllm.entrypoints.openai.api_server",
            "--model", self.path, "--served-model-name", self.name,
            "--host", HOST, "--port", str(self.port), "--api-key", self.key,
            "--enable-lora", "--max-lora-rank", str(max_lora_rank()),
            "--max-model-len", str(self.max_model_len()),
            "--gpu-memory-utilization", str(gpu_share()),
            *([] if self.cuda else ["--max-num-seqs", "1"]),
            *shlex.split(os.environ.get("WORKBENCH_VLLM_ARGS", "")),
        ]  # fmt: skip

    def max_model_len(self) -> int:
        limit = number_setting("WORKBENCH_VLLM_MAX_MODEL_LEN", DEFAULT_MAX_MODEL_LEN)
        try:
            config = json.loads((Path(self.path) / "config.json").read_text())
            return int(min(limit, config.get("max_position_embeddings") or limit))
        except (OSError, ValueError, TypeError):
            return int(limit)

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + number_setting("WORKBENCH_VLLM_START_S", DEFAULT_START_S)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                cause = root_cause(self.log_path)
                raise UserError(f"vLLM could not start {self.name}: {cause} (log: {self.log_path}).")
            if self._healthy():
                return
            time.sleep(1.0)
        self.stop()
        raise UserError(f"vLLM did not start {self.name} in time; see {self.log_path}.")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def load_adapter(self, name: str, folder: Path) -> None:
        """Load a LoRA adapter under ``name`` (once)."""
        if name in self.adapters:
            return
        rank = _adapter_rank(folder)
        if rank > max_lora_rank():
            raise UserError(
                f"This adapter's rank is {rank}, above the {max_lora_rank()} vLLM was started for; set "
                f"WORKBENCH_VLLM_MAX_LORA_RANK to {rank} or more and restart the model server."
            )
        try:
            self.call("/v1/load_lora_adapter", {"lora_name": name, "lora_path": str(folder)}).close()
        except UserError as error:
            if "already" not in str(error):
                raise
        self.adapters.add(name)

    def call(self, path: str, body: dict[str, Any], timeout: float = 600.0) -> Any:
        """POST ``body`` to the vLLM server; the open response (a UserError with vLLM's message on an error)."""
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {self.key}")
        try:
            return urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            raise UserError(f"vLLM refused the request: {_error_message(error)}") from None
        except (urllib.error.URLError, ConnectionError) as error:
            raise UserError(f"vLLM stopped answering for {self.name}; see {self.log_path}.") from error

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to vLLM's whole process group (its engine and workers too), SIGKILL after 30 s."""
        if not self.alive():
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def failure(self, reported: str) -> str:
        """What went wrong, for a request vLLM failed: the root cause from its log when its engine died (it is
        stopped then, so the next request starts it again), else what it reported; and where the log is."""
        if self._healthy():
            return f"{reported} (log: {self.log_path})."
        self.stop()
        return f"{root_cause(self.log_path)} (log: {self.log_path}); it starts again with the next request."


def root_cause(log_path: Path) -> str:
    """The log's last line naming an error other than the engine's death notice (the root cause), or its last."""
    try:
        lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    causes = [line for line in lines if "Error: " in line and not any(word in line for word in _NOTICES)]
    return (causes or lines or ["no log"])[-1].split("] ")[-1].strip()[-300:]


def gpu_share() -> float:
    return min(max(number_setting("WORKBENCH_VLLM_GPU_MEMORY", DEFAULT_GPU_SHARE), 0.05), 0.95)


def max_lora_rank() -> int:
    return int(number_setting("WORKBENCH_VLLM_MAX_LORA_RANK", DEFAULT_MAX_LORA_RANK))


def _environment(cuda: bool) -> dict[str, str]:
    environment = {**os.environ, "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True", "HF_HUB_OFFLINE": "1"}
    if not cuda:
        environment.setdefault("VLLM_CPU_KVCACHE_SPACE", CPU_KV_CACHE_GB)
    return environment


def _head_dim(path: str) -> int | None:
    try:
        config = json.loads((Path(path) / "config.json").read_text())
        return int(config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"])
    except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
        return None


def _adapter_rank(folder: Path) -> int:
    try:
        config = json.loads((folder / "adapter_config.json").read_text())
        return max([int(config.get("r") or 0), *(int(rank) for rank in (config.get("rank_pattern") or {}).values())])
    except (OSError, ValueError, TypeError):
        return 0


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read())
        return str(body.get("error", {}).get("message") or body.get("message") or body)[:300]
    except (ValueError, AttributeError):
        return f"{error.code} {error.reason}"


def _safe(name: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in name)[-80:]
