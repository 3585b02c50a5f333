"""End to end in a real browser: a new user uploads a file with errors, sees them, cleans it and saves a version.

Playwright (from pip) drives Debian's chromium, headless, against the app started as `make run` starts it (see
tests/app_server.py); nothing is mocked.
"""

import json
from pathlib import Path

import pytest
from app_server import needs_chromium

from workbench.data import library


WAIT = 120_000

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture
def app_url(demo_home, app_servers):
    """The app on a free port; no runner, since this flow never trains."""
    return app_servers(demo_home, start_runner=False)[1]


def flawed_file(folder: Path) -> Path:
    """Twelve good conversations, one repeated, and one broken line (line 14)."""
    rows = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"Where is office {i}?"},
                    {"role": "assistant", "content": f"Office {i} is on floor {i}."},
                ]
            }
        )
        for i in range(12)
    ]
    path = folder / "support_chats.jsonl"
    path.write_text("\n".join([*rows, rows[2], '{"messages": [{"role": "user", "content": "oops"}']) + "\n")
    return path


def test_upload_see_errors_clean_and_save_a_version(app_url, browser, demo_home, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.goto(f"{app_url}/data")  # a deep link to a freshly started server still runs app.py's navigation
    expect(page.get_by_role("link", name="Datasets", exact=True)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Check a dataset before any training", exact=False)).to_be_visible(timeout=WAIT)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(flawed_file(tmp_path)))

    expect(page.get_by_text("13 of 14 records are usable; 1 has errors.", exact=False)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Line 14: This line is not valid JSON", exact=False)).to_be_visible()
    expect(page.get_by_text("Line 13: The same conversation already appears on line 3", exact=False)).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(1)

    page.get_by_role("tab", name="Clean and save").click()
    page.get_by_role("button", name="Save as a new dataset version").click()
    expect(page.get_by_text("Saved support_chats v2: 12 records (messages).", exact=False)).to_be_visible(timeout=WAIT)
    page.screenshot(path=str(tmp_path / "data-saved.png"))

    [versions] = library.list_datasets()
    assert [(version.version, version.rows) for version in versions] == [(1, 13), (2, 12)]
    assert versions[0].path.read_bytes() == flawed_file(tmp_path).read_bytes(), "the original is kept as it was"

    page.get_by_role("link", name="Datasets", exact=True).click()
    expect(page.get_by_text("support_chats v2: 12 conversations are ready for training.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("trained on (the answers)")).to_be_visible(timeout=WAIT)
    page.screenshot(path=str(tmp_path / "datasets.png"))
