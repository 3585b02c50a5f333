"""End to end in chromium: the Arena page's blind vote. The answers show under letters only; a vote reveals whose
each was, saves once, moves to the next prompt and shows in the standings."""

import pytest
from app_server import needs_chromium
from test_pages_arena import evaluated_run

from workbench.results import arena


pytestmark = [pytest.mark.e2e, needs_chromium]
WAIT = 120_000


def test_a_reviewer_votes_blind_and_sees_the_standings(home, app_servers, browser):
    from playwright.sync_api import expect

    run_id = evaluated_run()
    _, url = app_servers(home, start_runner=False)
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(f"{url}/arena", timeout=WAIT)
    expect(page.get_by_text("Which is best?")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Answer B", exact=True).first).to_be_visible()
    expect(page.get_by_text(run_id, exact=False)).to_have_count(1)  # the run picked above; no answer is named
    expect(page.get_by_text("base: demo", exact=False)).to_have_count(0)
    page.get_by_text("A tie", exact=True).click()
    page.get_by_role("button", name="Vote").click()
    expect(page.get_by_text("Your vote is saved", exact=False)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(f"was {run_id}", exact=False)).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(1, timeout=WAIT)
    assert [(standing.votes, standing.ties) for standing in arena.standings()] == [(1, 1), (1, 1)], "one tie saved"
    page.get_by_text("Answer A", exact=True).last.click()
    page.get_by_role("button", name="Vote").click()
    expect(page.get_by_text("You have voted on every prompt", exact=False)).to_be_visible(timeout=WAIT)
