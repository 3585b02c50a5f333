"""End to end: pip's Playwright drives Debian's chromium, headless, against the app as `make run` runs it.

The path a new user takes: upload data, start a short training, watch it in a second tab, download the adapter,
merge it into the base model and download that, and chat with the result. Nothing is mocked: the app starts its
own runner, which trains in its own process.
"""

import io
import json
import re
import signal
import zipfile
from pathlib import Path

import pytest
from app_server import needs_chromium
from conftest import wait_for

from workbench.models.demo_task import DEMO_TRAIN_FILE


# A page load waits for the web server, which shares 2 cores with a training run at that moment.
NAVIGATION_MS = 120_000


LONG = 180_000

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture
def app_url(demo_home, app_servers):
    return app_servers(demo_home)[1]


def test_upload_train_watch_download_and_chat(app_url, browser, tmp_path):
    from playwright.sync_api import expect

    upload = tmp_path / "my_conversations.jsonl"
    upload.write_text("\n".join(DEMO_TRAIN_FILE.read_text().splitlines()[:64]) + "\n")
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(app_url, timeout=NAVIGATION_MS)
    expect(page.get_by_text("Try the built-in demo")).to_be_visible(timeout=60_000)

    page.get_by_role("link", name="Data", exact=True).click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
    expect(page.get_by_text("Loaded 64 conversations from my_conversations.jsonl")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Use this dataset for training").click()

    dataset = page.get_by_role("combobox", name="Dataset")
    expect(dataset).to_have_value(re.compile(r"^my_conversations v1 \(64 records\)"), timeout=60_000)
    expect(page.get_by_text("The recommended start", exact=False)).to_be_visible()  # the Balanced preset
    expect(page.get_by_text("Ready to start.")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Step", exact=False).first).to_be_visible(timeout=60_000)

    second_tab = browser.new_page(viewport={"width": 1280, "height": 1400})
    second_tab.goto(f"{app_url}/runs", timeout=NAVIGATION_MS)
    expect(second_tab.get_by_text("my_conversations", exact=False).first).to_be_visible(timeout=60_000)
    expect(second_tab.get_by_text("Succeeded", exact=True)).to_be_visible(timeout=LONG)
    # The loss chart (more sit in an expander); plotly draws late on a loaded 2-core machine.
    expect(second_tab.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)

    with second_tab.expect_download(timeout=60_000) as download_info:
        second_tab.get_by_role("button", name="Download adapter (.zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert any(name.endswith("adapter_model.safetensors") for name in archive.namelist())

    second_tab.get_by_role("button", name="Merge into the base model").click()
    expect(second_tab.get_by_text("Merged model saved in", exact=False)).to_be_visible(timeout=LONG)
    with second_tab.expect_download(timeout=60_000) as download_info:  # the zip is built only on this click
        second_tab.get_by_role("button", name="Download the merged model (.zip)").click()
    merged = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes())).namelist()
    assert {"config.json", "model.safetensors", "chat_template.jinja"} <= {name.split("/")[-1] for name in merged}

    second_tab.get_by_role("link", name="Chat with this model in the Playground").click()
    box = second_tab.get_by_test_id("stChatInputTextArea")
    box.fill(json.loads(upload.read_text().splitlines()[0])["messages"][0]["content"])
    box.press("Enter")
    reply = second_tab.get_by_test_id("stChatMessage").nth(1)
    expect(reply).to_be_visible(timeout=LONG)
    wait_for(lambda: reply.inner_text().strip(), timeout=60, what="a streamed reply")
    second_tab.screenshot(path=str(tmp_path / "playground.png"))


def test_run_survives_closing_the_browser_and_killing_the_web_server(demo_home, browser, app_servers):
    from playwright.sync_api import expect

    from workbench.jobs import control, queue
    from workbench.planning.presets import demo_config
    from workbench.runs import directory

    server, url = app_servers(demo_home)
    job = control.submit(demo_config(dataset=str(DEMO_TRAIN_FILE), num_train_epochs=3))
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{url}/runs", timeout=NAVIGATION_MS)
    expect(page.get_by_text("Running")).to_be_visible(timeout=90_000)
    page.close()  # the browser tab goes away mid-run
    server.send_signal(signal.SIGKILL)  # and so does the web server
    server.wait(10)
    run = directory.get_run(job.run_id)
    step = directory.read_status(run.path).step
    wait_for(lambda: directory.read_status(run.path).step > step, timeout=60, what="training to go on without the app")

    _, url = app_servers(demo_home)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{url}/runs", timeout=NAVIGATION_MS)
    expect(page.get_by_role("combobox", name="Run")).to_have_value(job.run_id, timeout=60_000)
    expect(page.get_by_text("Succeeded", exact=True)).to_be_visible(timeout=LONG)
    finished = wait_for(lambda: not queue.get_job(job.run_id).active and queue.get_job(job.run_id), what="the job row")
    assert finished.state == "succeeded" and finished.attempt == 1
    assert (run.path / "train.log").read_text().count("Run finished") == 1, "one training process, never a second copy"


def test_the_runs_page_follows_a_cancel_to_resume_without_a_reload(demo_home, browser, app_servers):
    """Watched on an open page, a run that is cancelled ends everywhere at once: the panel, the job table and its
    count, and the buttons (Resume appears); nobody presses reload."""
    from playwright.sync_api import expect

    from workbench.jobs import control, queue
    from workbench.planning.presets import demo_config

    _, url = app_servers(demo_home)
    job = control.submit(demo_config(dataset=str(DEMO_TRAIN_FILE), num_train_epochs=30))
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(f"{url}/runs", timeout=NAVIGATION_MS)
    expect(page.get_by_text("All jobs on this server (1 running or waiting)")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"Step [1-9]\d* of"))).to_be_visible(timeout=120_000)

    page.get_by_role("button", name="Cancel run").click()
    page.get_by_role("button", name="Yes, cancel the run").click()
    expect(page.get_by_role("button", name="Resume from the last checkpoint")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(page.get_by_text("All jobs on this server", exact=True)).to_be_visible()  # no active count any more
    assert queue.get_job(job.run_id).state == "cancelled"

    page.get_by_role("button", name="Resume from the last checkpoint").click()
    expect(page.get_by_text("All jobs on this server (1 running or waiting)")).to_be_visible(timeout=60_000)
    assert queue.get_job(job.run_id).attempt == 2
    control.request_cancel(job.run_id)
    wait_for(lambda: not queue.get_job(job.run_id).active, timeout=120, what="the resumed run to stop")
