"""Take the README's screenshots: start the app on a scratch data folder, train the demo, photograph the pages.

    .venv/bin/python docs/screenshots.py        # or: make screenshots

Needs Debian's chromium (as the browser tests do) and about two minutes on a 2-core CPU. Writes docs/screenshot.png
(the Runs page after the demo run), docs/train.png (the Train page with its pre-flight check) and docs/answers.png
(the whole Runs page with the answers during training and the held-out answers opened).
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright


ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
WAIT_MS = 400_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # The app starts its own runner; let it exit 10 s after the last job so nothing outlives this script.
    env = {**os.environ, "WORKBENCH_HOME": str(home), "HF_HUB_OFFLINE": "1", "WORKBENCH_RUNNER_IDLE_EXIT": "10"}
    options = ["--server.headless=true", f"--server.port={port}", "--browser.gatherUsageStats=false"]
    server = subprocess.Popen([sys.executable, "serve.py", *options], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return server, url
        except OSError:
            time.sleep(0.5)
    raise SystemExit("The app did not start.")


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="workbench-screenshots-"))
    subprocess.run(
        [sys.executable, "-m", "workbench.cli", "demo", "build"],
        env={**os.environ, "WORKBENCH_HOME": str(home)},
        check=True,
    )
    server, url = serve(home)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 1800})
            page.goto(f"{url}/train")
            expect(page.get_by_text("Ready to start.")).to_be_visible(timeout=WAIT_MS)
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=WAIT_MS)
            time.sleep(2)  # let plotly finish drawing
            page.screenshot(path=str(ROOT / "docs" / "train.png"))
            page.set_viewport_size({"width": 1280, "height": 1300})
            page.goto(url)
            page.get_by_role("button", name="Train the demo model").click()
            expect(page.get_by_text("Succeeded", exact=True).first).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text("Token F1", exact=True)).to_be_visible(timeout=WAIT_MS)
            time.sleep(2)  # let plotly finish drawing
            page.screenshot(path=str(ROOT / "docs" / "screenshot.png"))
            page.get_by_text("Answers during training", exact=False).click()
            page.get_by_text("Held-out answers, untrained and trained", exact=False).click()
            time.sleep(2)
            page.screenshot(path=str(ROOT / "docs" / "answers.png"), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(15)
    print(f"Wrote docs/screenshot.png, docs/train.png and docs/answers.png (data folder {home}).")


if __name__ == "__main__":
    main()
