"""Keeps a vLLM server from outliving the model server that started it.

``python -m workbench.serving.vllm_guard -- COMMAND...`` runs COMMAND (vLLM) in the guard's own process group and
watches its parent, the model server: when the model server is gone, however it ended (a SIGKILL included), the
guard stops the whole group, so vLLM's engine and workers never keep a GPU for nobody. Stopping the group from
outside (``VllmServer.stop``) stops the guard and vLLM together.
"""

import os
import signal
import subprocess
import sys
import time


GRACE_S = 30.0


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    parent = os.getppid()
    child = subprocess.Popen(command)
    signal.signal(signal.SIGTERM, lambda *_: _wait_then_exit(child))  # the group was told to stop: vLLM too
    while child.poll() is None:
        if os.getppid() != parent:  # the model server is gone
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.killpg(os.getpgrp(), signal.SIGTERM)
            _wait_then_exit(child)
        time.sleep(1.0)
    return child.returncode


def _wait_then_exit(child: subprocess.Popen) -> None:
    try:
        child.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(os.getpgrp(), signal.SIGKILL)  # the guard goes too
    sys.exit(child.returncode or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
