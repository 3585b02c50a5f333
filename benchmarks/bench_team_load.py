"""A team server under load: N signed-in browser sessions (default 20) click through the pages of one server while a
demo job trains, against the same job training with nobody browsing.

Reports the time from asking for a page to its heading being drawn (median and 95th percentile), every error a
session saw (a Streamlit exception box, a page that never drew, a failed sign-in), and the training job's optimizer
steps per second alone and under load (the job alone is measured before and after the loaded run, and their mean
is the baseline, so a drifting machine shows up as two different baselines).

    .venv/bin/python benchmarks/bench_team_load.py [--sessions 20] [--epochs 30] [--json]

Everything is real: `python serve.py` in team mode with built-in accounts (argon2id at its default cost), the runner,
the demo training process, and Debian's chromium driven by pip's Playwright (one browser, a context per session).
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password"
PAGES = {
    "": "SFT Workbench",
    "runs": "Runs",
    "datasets": "Datasets",
    "compare": "Compare runs",
    "playground": "Playground",
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(home: Path, sessions: int) -> None:
    """The demo model built and one member per session, as an admin would add them."""
    from workbench.models import loading
    from workbench.team import users
    from workbench.team.identity import Actor

    loading.ensure_demo_model()
    admin = Actor("load-admin", "admin", "cli")
    for index in range(1, sessions + 1):
        users.add(admin, f"user{index:02d}", PASSWORD)


def start(home: Path, port: int) -> list[subprocess.Popen]:
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_MODE": "team", "WORKBENCH_START_RUNNER": "0"}
    with open(home / "bench-processes.log", "ab") as log:  # the children keep their own copy of the handle
        server = subprocess.Popen(
            [sys.executable, "serve.py", f"--server.port={port}", "--server.address=127.0.0.1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        runner = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "runner"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return [server, runner]
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the web server did not start; see bench-processes.log")


def train(epochs: float) -> str:
    from workbench.jobs import control
    from workbench.planning import presets
    from workbench.team.identity import Actor

    return control.submit(presets.demo_config(num_train_epochs=epochs), Actor("user01")).run_id


def steps_per_second(run_id: str) -> float:
    """Wait for the run to end; its optimizer steps per second as the trainer measured them."""
    from workbench.jobs import queue
    from workbench.runs import directory

    while queue.get_job(run_id).active:
        time.sleep(0.5)
    ends = [row for row in directory.read_metrics(directory.run_dir(run_id)) if "train_steps_per_second" in row]
    if queue.get_job(run_id).state != "succeeded" or not ends:
        raise SystemExit(f"the run {run_id} did not succeed: {queue.get_job(run_id).error}")
    return float(ends[-1]["train_steps_per_second"])


async def session(browser, url: str, name: str, stop: asyncio.Event, timings: list, errors: list) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        await page.goto(f"{url}/account/signin", timeout=120_000)
        await page.fill("#name", name)
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.get_by_text(f"Signed in as {name}").wait_for(timeout=120_000)
    except Exception as error:  # noqa: BLE001 - every failure is a finding of the benchmark
        errors.append(f"{name}: sign-in failed ({type(error).__name__})")
        await context.close()
        return
    turn = 0
    while not stop.is_set() or turn == 0:
        path, heading = list(PAGES.items())[turn % len(PAGES)]
        turn += 1
        started = time.monotonic()
        try:
            await page.goto(f"{url}/{path}", timeout=120_000)
            await page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=120_000)
            timings.append(time.monotonic() - started)
            if await page.get_by_test_id("stException").count():
                errors.append(f"{name}: an exception on /{path}")
        except Exception as error:  # noqa: BLE001
            errors.append(f"{name}: /{path} did not draw ({type(error).__name__})")
    await context.close()


async def loaded_run(url: str, sessions: int, epochs: float) -> tuple[float, list[float], list[str]]:
    from playwright.async_api import async_playwright

    timings: list[float] = []
    errors: list[str] = []
    stop = asyncio.Event()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        tasks = [
            asyncio.create_task(session(browser, url, f"user{index:02d}", stop, timings, errors))
            for index in range(1, sessions + 1)
        ]
        while len(timings) < sessions and not all(task.done() for task in tasks):
            await asyncio.sleep(0.5)  # everyone signed in and drew a first page before the job starts
        run_id = train(epochs)
        rate = await asyncio.to_thread(steps_per_second, run_id)
        stop.set()
        await asyncio.gather(*tasks)
        await browser.close()
    return rate, timings, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument(
        "--epochs", type=float, default=30.0, help="of the demo run (10 is the demo; 30 is ~480 steps)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--once", action="store_true", help="measure the job alone only before the load (quicker)")
    parser.add_argument("--home", type=Path, help="an empty folder for the server's data (default: a new one)")
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-team-"))
    os.environ.update(WORKBENCH_HOME=str(home), WORKBENCH_MODE="team", HF_HUB_OFFLINE="1")
    prepare(home, args.sessions)
    port = free_port()
    processes = start(home, port)
    try:
        before = steps_per_second(train(args.epochs))
        loaded, timings, errors = asyncio.run(loaded_run(f"http://127.0.0.1:{port}", args.sessions, args.epochs))
        after = before if args.once else steps_per_second(train(args.epochs))
    finally:
        for process in processes:
            process.terminate()
    alone = (before + after) / 2
    cuts = statistics.quantiles(timings, n=20) if len(timings) >= 2 else [float("nan")] * 19
    result = {
        "sessions": args.sessions,
        "pages_drawn": len(timings),
        "page_median_s": round(statistics.median(timings), 2) if timings else None,
        "page_p95_s": round(cuts[18], 2),
        "errors": errors,
        "steps_per_s_alone": [round(before, 2), round(after, 2)],
        "steps_per_s_loaded": round(loaded, 2),
        "loaded_over_alone": round(loaded / alone, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:20} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
