"""End to end in chromium: the trained demo and its untouched base answer the same held-out question side by side
in the Playground, both from the one base the model server loaded (the base with the run's adapter attached)."""

import json

import pytest
from app_server import needs_chromium
from conftest import copy_trained_run, wait_for

from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.serving import client, process


pytestmark = [pytest.mark.e2e, needs_chromium]
WAIT = 120_000


def test_the_tuned_demo_and_its_base_answer_side_by_side_from_one_loaded_base(
    demo_home, trained_demo, app_servers, browser, tmp_path
):
    from playwright.sync_api import expect

    copy_trained_run(trained_demo, demo_home)
    question, expected = (
        turn["content"] for turn in json.loads(DEMO_HELDOUT_FILE.read_text().splitlines()[0])["messages"]
    )
    _, url = app_servers(demo_home, start_runner=False)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/playground", timeout=WAIT)
    page.get_by_text("Compare with the base model").click()
    expect(page.get_by_text("Base model, without training")).to_be_visible(timeout=WAIT)
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    messages = page.get_by_test_id("stChatMessageContent")  # per column: the question, then its answer

    def answers() -> list[str]:
        texts = [messages.nth(index).inner_text().strip() for index in (1, 3)]
        busy = "▌" in "".join(texts) or "Thinking…" in texts  # still streaming, or not begun
        return texts if messages.count() == 4 and all(texts) and not busy else []

    tuned, base = wait_for(answers, timeout=120, what="both columns' answers")
    assert tuned == expected and base != expected
    page.screenshot(path=str(tmp_path / "side-by-side.png"))
    [loaded] = client.health(process.running_server())["loaded"]
    assert (loaded["model"], loaded["adapters"]) == ("demo", [trained_demo.run_id]), "one base, the run attached"
