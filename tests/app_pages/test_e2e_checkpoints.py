"""End to end in chromium: a checkpoint promoted on the Runs page is the model the Playground then answers with
(the trained demo answers every held-out question exactly; the promoted step-0 checkpoint cannot)."""

import json

import pytest
from app_server import needs_chromium
from checkpoint_files import untrained_checkpoint
from conftest import copy_trained_run, wait_for

from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.runs import checkpoints


pytestmark = [pytest.mark.e2e, needs_chromium]
WAIT = 120_000


def test_a_promoted_checkpoint_is_what_the_playground_answers_with(demo_home, trained_demo, app_servers, browser):
    from playwright.sync_api import expect

    run_dir = copy_trained_run(trained_demo, demo_home, with_checkpoints=True)
    untrained_checkpoint(run_dir, trained_demo.run_id)
    question, expected = (
        turn["content"] for turn in json.loads(DEMO_HELDOUT_FILE.read_text().splitlines()[0])["messages"]
    )
    _, url = app_servers(demo_home, start_runner=False)
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.goto(f"{url}/runs", timeout=WAIT)
    page.get_by_text("Checkpoints: evaluate one, or promote it").click()
    expect(page.get_by_role("combobox", name="Checkpoint", exact=True)).to_be_visible(timeout=WAIT)
    page.get_by_role("combobox", name="Checkpoint", exact=True).click()
    page.keyboard.type("checkpoint 0")  # filters the list: a click alone may not open it while the page redraws
    page.get_by_role("option", name="checkpoint 0", exact=True).click(timeout=WAIT)
    page.get_by_role("button", name="Promote checkpoint 0").click()
    expect(page.get_by_text("This run answers with checkpoint 0", exact=False)).to_be_visible(timeout=WAIT)
    assert checkpoints.promoted_step(run_dir) == 0

    page.get_by_role("link", name="Chat with this model in the Playground").click()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    reply = page.get_by_test_id("stChatMessage").nth(1)
    expect(reply).to_be_visible(timeout=WAIT)
    answered = wait_for(lambda: reply.inner_text().strip(), timeout=90, what="a streamed reply")
    assert expected not in answered, "the step-0 checkpoint answered, not the trained final adapter"
