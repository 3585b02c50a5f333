"""Processes the workbench starts and finds again: detached process groups, liveness checked against pid reuse,
group signals and the one-holder file locks. The runner uses them for training processes, the merge for its own
process, the model server for itself."""

import fcntl
import os
import signal
import socket
import subprocess
from pathlib import Path


def spawn_detached(command: list[str], log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a process in its own session and process group (so a group signal reaches all its children),
    with output appended to ``log_path`` and ``env`` added to this process's environment."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )


def boot_id() -> str:
    """This boot of the machine: a pid recorded in an earlier boot names some other process now."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_start_time(pid: int) -> str | None:
    """'BOOT_ID:TICKS', the boot and the kernel's start time of a process, to tell a live process from a later one
    that reuses its pid (after a reboot too); None when there is no such live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has finished; its exit is only waiting to be collected
        return None
    return f"{boot_id()}:{fields[19]}"


def process_alive(pid: int, start_time: str | None) -> bool:
    """True while the process recorded with ``start_time`` lives (a start time of an older format, ticks alone,
    is compared without the boot)."""
    current = process_start_time(pid)
    if current is None or not start_time:
        return current is not None
    return current == start_time if ":" in start_time else current.rpartition(":")[2] == start_time


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def group_alive(pid: int, start_time: str | None) -> bool:
    """A started job is alive while its launcher is (checked against pid reuse) or any process of its group is. The
    group is only looked for in the boot that started it: the kernel never gives a new process the pid of a group
    that still has members, but after a reboot the same number may lead an unrelated group."""
    recorded_boot = start_time.partition(":")[0] if start_time and ":" in start_time else None
    if recorded_boot is not None and recorded_boot != boot_id():
        return False
    return process_alive(pid, start_time) or bool(group_members(pid))


def signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def try_lock(path: Path) -> int | None:
    """Take an exclusive lock on ``path`` for the life of this process (the open descriptor); None when another
    process holds it. The kernel frees it when the process ends, however it ends."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def lock_held(path: Path) -> bool:
    """True while some process holds the lock on ``path`` (checked by taking it for a moment)."""
    fd = try_lock(path)
    if fd is None:
        return True
    os.close(fd)
    return False


def free_port(host: str) -> int:
    """A TCP port free on ``host`` now, for a server this process is about to start."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
