"""Real cluster schedulers for the backend tests, started on this machine: a single-node Slurm (Debian's slurm-wlm and
munge: munged, slurmctld and slurmd, each with its own socket, ports and state in a temporary folder, run as root)
and a local Ray head. ``.ci/run`` installs both."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from conftest import start_runner, stop_process, wait_for


def demo_on(backend: str, **overrides):
    """A quick demo run (half an epoch of the plain demo file) sent to ``backend``."""
    from workbench.models.demo_task import DEMO_TRAIN_FILE
    from workbench.planning import presets

    values = {"dataset": str(DEMO_TRAIN_FILE), "num_train_epochs": 0.5, "backend": backend, **overrides}
    return presets.demo_config(**values)


@contextmanager
def runner_with(home: Path, settings: dict[str, str], monkeypatch):
    """A runner process on ``home`` with the cluster ``settings`` in its environment (and the test's)."""
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    runner = start_runner(home)
    try:
        yield runner
    finally:
        stop_process(runner)


SLURM_DAEMONS = ("/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def slurm_conf(folder: Path, munge_socket: Path) -> str:
    host = socket.gethostname()
    return f"""ClusterName=workbench-test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
AuthInfo=socket={munge_socket}
CredType=cred/munge
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
KillWait=30
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName={host} CPUs={os.cpu_count()} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


@contextmanager
def slurm_cluster(folder: Path):
    """A running single-node Slurm; yields the environment its clients need (SLURM_CONF)."""
    missing = [daemon for daemon in SLURM_DAEMONS if not Path(daemon).exists()]
    assert not missing, f"install slurm-wlm and munge (apt-get install slurm-wlm munge): {missing} missing"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "state").mkdir()
    (folder / "spool").mkdir()
    key = folder / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    munge_socket = folder / "munge.socket"
    munge = [SLURM_DAEMONS[0], "--force", f"--key-file={key}", f"--socket={munge_socket}"]
    munge += [f"--pid-file={folder}/munged.pid", f"--log-file={folder}/munged.log", f"--seed-file={folder}/munge.seed"]
    subprocess.run(munge, check=True)
    conf = folder / "slurm.conf"
    conf.write_text(slurm_conf(folder, munge_socket))
    env = {"SLURM_CONF": str(conf)}
    daemons = [_daemon(daemon, conf, env, folder) for daemon in SLURM_DAEMONS[1:]]
    try:
        wait_for(lambda: _node_idle(env), timeout=60, what="the Slurm node to be idle")
        yield env
    finally:
        _cancel_every_job(env)
        for daemon in daemons:
            daemon.terminate()
        for daemon in daemons:
            try:
                daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                daemon.kill()
        _stop_pid_file(folder / "munged.pid")


def _daemon(path: str, conf: Path, env: dict[str, str], folder: Path) -> subprocess.Popen:
    with open(folder / f"{Path(path).name}.out", "ab") as output:
        command = [path, "-D", "-f", str(conf)]
        return subprocess.Popen(command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT)


def _cancel_every_job(env: dict[str, str]) -> None:
    """No training a test sent to Slurm outlives it (slurmd's shutdown leaves running jobs alone)."""
    environment = {**os.environ, **env}
    subprocess.run(["scancel", "--full", "--signal=KILL", "--user=root"], env=environment, check=False)
    subprocess.run(["scancel", "--user=root"], env=environment, check=False)
    wait_for(lambda: _squeue_empty(environment), timeout=60, what="Slurm's jobs to end")


def _squeue_empty(environment: dict[str, str]) -> bool:
    done = subprocess.run(["squeue", "-h"], capture_output=True, text=True, env=environment, check=False)
    return done.returncode == 0 and not done.stdout.strip()


def _node_idle(env: dict[str, str]) -> bool:
    done = subprocess.run(
        ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env={**os.environ, **env}, check=False
    )
    return done.stdout.strip() == "idle"


def _stop_pid_file(path: Path) -> None:
    try:
        os.kill(int(path.read_text().strip()), signal.SIGTERM)
    except (OSError, ValueError):
        pass


@dataclass
class RayHead:
    """A local Ray head on fixed ports (so it can be stopped and started again at the same address)."""

    folder: Path
    port: int = field(default_factory=free_port)
    dashboard: int = field(default_factory=free_port)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.dashboard}"

    def start(self) -> None:
        start = [_ray(), "start", "--head", f"--port={self.port}", "--dashboard-host=127.0.0.1"]
        start += [f"--dashboard-port={self.dashboard}", "--num-cpus=2", "--disable-usage-stats"]
        start += [f"--temp-dir=/tmp/ray-{self.port}"]  # Ray's socket paths must stay short
        environment = {key: value for key, value in os.environ.items() if not key.startswith("RAY_")}
        subprocess.run(start, check=True, capture_output=True, cwd=self.folder, env=environment)
        wait_for(lambda: _answers(f"{self.address}/api/jobs/"), timeout=90, what="the Ray Jobs API")

    def stop(self) -> None:
        """``ray stop`` stops every Ray head on the machine: the tests start one at a time."""
        subprocess.run([_ray(), "stop", "--force"], check=False, capture_output=True)


@contextmanager
def ray_head(folder: Path):
    """A running local Ray head (its dashboard serves the Jobs API)."""
    head = RayHead(folder)
    head.start()
    try:
        yield head
    finally:
        head.stop()
        shutil.rmtree(f"/tmp/ray-{head.port}", ignore_errors=True)


def _ray() -> str:
    return str(Path(sys.executable).with_name("ray"))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False
