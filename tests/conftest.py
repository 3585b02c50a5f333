"""Shared fixtures: an isolated data folder per test, and the demo model built once per test session."""

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from leftovers import stop_model_server, stop_workbench


# Four real SFT files from public projects (see datasets/README.md), one of them deliberately flawed.
REAL_DATASETS = Path(__file__).resolve().parent / "datasets"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WORKBENCH_START_RUNNER", "0")  # tests start the runner themselves where they need one
os.environ.setdefault("WORKBENCH_RUNNER_IDLE_EXIT", "30")  # runners started by tests never outlive them for long


@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory):
    """The built-in demo model, built once for the whole test session."""
    from workbench.models.demo import build_demo_model

    return build_demo_model(tmp_path_factory.mktemp("demo-model") / "demo")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty workbench data folder for one test; its runner and training processes are stopped afterwards."""
    folder = tmp_path / "workbench-home"
    folder.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(folder))
    yield folder
    stop_workbench(folder)


@pytest.fixture
def demo_home(home, demo_model_dir):
    """A data folder where the demo model is already built (linked to the session's copy)."""
    link_demo_model(home, demo_model_dir)
    return home


def claim_next():
    """Claim the oldest queued job as the runner would, without starting a process for it."""
    from workbench.jobs import fairness, queue

    waiting = fairness.next_job()
    return queue.claim(waiting.id) if waiting else None


def ended_job(run_id: str):
    """The job of a run once it has ended (for ``wait_for``), else None."""
    from workbench.jobs import queue

    job = queue.get_job(run_id)
    return job if not job.active else None


def start_runner(home, idle_exit: float = 20.0) -> subprocess.Popen:
    """A real runner process working on ``home``, as `workbench runner` would start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "runner", "--idle-exit", str(idle_exit)],
        env={**os.environ, "WORKBENCH_HOME": str(home)},
        stdout=open(home / "runner-test.log", "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(predicate, timeout: float = 120.0, interval: float = 0.2, what: str = "condition"):
    """Poll until ``predicate()`` is truthy and return its value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def dead_pid() -> int:
    """The pid of a process that has already ended: a job row can point at it without any test signalling a real
    process (the teardown signals the process groups of 'running' rows)."""
    code = "import os; print(os.getpid())"
    ended = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(ended.stdout)


def link_demo_model(home, demo_model_dir) -> None:
    (home / "models").mkdir(exist_ok=True)
    (home / "models" / "demo").symlink_to(demo_model_dir, target_is_directory=True)


@pytest.fixture
def runner_process(demo_home):
    """A runner process on the test's data folder, stopped after the test (``.home`` is that folder)."""
    process = start_runner(demo_home)
    process.home = demo_home
    yield process
    stop_process(process)


@dataclass
class TrainedRun:
    home: Path
    run_id: str


@pytest.fixture(scope="session")
def trained_demo(tmp_path_factory, demo_model_dir):
    """The default demo run, trained once per session through the real runner, as a user's click would."""
    from workbench.jobs import control, queue
    from workbench.planning import presets

    home = tmp_path_factory.mktemp("trained-home")
    link_demo_model(home, demo_model_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(home))
        job = control.submit(presets.demo_config())
        process = start_runner(home, idle_exit=5)
        try:
            wait_for(lambda: not queue.get_job(job.run_id).active, timeout=400, interval=1, what="the demo run")
        finally:
            stop_process(process)
    yield TrainedRun(home, job.run_id)
    stop_model_server(home)


def run_training(config):
    """Run the training process exactly as the runner does, wait for it, and return the run."""
    from workbench.runs import directory

    run = directory.create_run(config)
    with open(run.path / directory.LOG_FILE, "ab") as log:
        subprocess.run(
            [sys.executable, "-m", "workbench.training", str(run.path)],
            stdout=log,
            stderr=log,
            timeout=600,
            check=False,
        )
    return run


def copy_trained_run(
    trained: TrainedRun, home: Path, run_id: str | None = None, with_checkpoints: bool = False
) -> Path:
    """A copy of the trained demo run (without checkpoints unless asked) in another data folder, for tests that
    change a run."""
    target = home / "runs" / (run_id or trained.run_id)
    skip = shutil.ignore_patterns() if with_checkpoints else shutil.ignore_patterns("checkpoints")
    shutil.copytree(trained.home / "runs" / trained.run_id, target, ignore=skip)
    return target


@pytest.fixture
def trained_home(trained_demo, monkeypatch):
    """Point the workbench at the data folder holding the trained demo run."""
    monkeypatch.setenv("WORKBENCH_HOME", str(trained_demo.home))
    return trained_demo


@pytest.fixture
def big_model(demo_model_dir, tmp_path):
    """A folder with Llama-2-7B's config.json and the demo tokenizer: pre-flight reads shapes, never weights."""
    folder = tmp_path / "llama-2-7b"
    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(demo_model_dir / name, folder / name)
    shape = {"hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32}
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "vocab_size": 32000, **shape}))
    return folder


@pytest.fixture(scope="session")
def llama_7b():
    """The shape of Llama-2-7B, from its config.json values (no weights)."""
    from model_shapes import LLAMA2_7B

    from workbench.planning.model_facts import facts_from_config

    return facts_from_config(LLAMA2_7B)


@pytest.fixture
def app_servers():
    """Start the app as `make run` does (``start(home, start_runner=True) -> (process, url)``); every server started
    is stopped after the test, even when the test fails half-way."""
    from app_server import start_server

    started = []

    def start(home: Path, start_runner: bool = True, **options) -> tuple[subprocess.Popen, str]:
        server, url = start_server(home, start_runner, **options)
        started.append(server)
        return server, url

    yield start
    for server in started:
        stop_process(server)


@pytest.fixture
def browser():
    """Debian's chromium, headless, driven by pip's Playwright (which never downloads a browser of its own)."""
    from app_server import ARGS, CHROMIUM
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


TEAM_PASSWORDS = {"ada": "ada-password-1", "alice": "alice-password-1", "bob": "bob-password-1"}


@pytest.fixture
def team_home(home, monkeypatch):
    """A data folder in team mode with an admin (ada) and two members (alice, bob); passwords in TEAM_PASSWORDS."""
    from argon2 import PasswordHasher

    from workbench.team import passwords, users
    from workbench.team.identity import Actor

    # Still argon2id, with the smallest cost (the default spends 0.6 s of a CPU per hash, by design).
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))
    monkeypatch.setenv("WORKBENCH_MODE", "team")
    for name in ("WORKBENCH_AUTH", "WORKBENCH_USER_HEADER", "WORKBENCH_ADMINS"):
        monkeypatch.delenv(name, raising=False)
    setup = Actor("setup", "admin", "cli")
    for name, password in TEAM_PASSWORDS.items():
        users.add(setup, name, password, "admin" if name == "ada" else "member")
    return home
