"""End to end in team mode: pip's Playwright drives Debian's chromium against the app as `make run` serves it.

Built-in accounts: a member signs in through the sign-in form, sees her own runs and the ones shared with the team
(not a colleague's private one), cannot cancel someone else's, and signs out; an admin sees the Admin page. OpenID
Connect: a real OpenID provider (panva's certified oidc-provider, started here with Node) signs a member in and out
through Streamlit's st.login. Nothing is mocked.
"""

import os
import re
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest
from app_server import free_port, needs_chromium
from conftest import TEAM_PASSWORDS, wait_for

from workbench.config import RunConfig
from workbench.jobs import control
from workbench.team import audit, sessions
from workbench.team.identity import Actor


NAVIGATION_MS = 120_000
PROVIDER = Path(__file__).resolve().parents[1] / "oidc_provider"
REAL_CHATS = Path(__file__).resolve().parents[1] / "datasets" / "openai_toy_chat_fine_tuning.jsonl"

pytestmark = [pytest.mark.e2e, needs_chromium]


def queued_runs() -> dict[str, str]:
    """alice's run, bob's private run, bob's shared run (newest: the one a page selects first), all waiting."""
    made = {}
    for name, owner in (("alices-run", "alice"), ("bobs-private", "bob"), ("bobs-shared", "bob")):
        made[name] = control.submit(RunConfig(run_name=name), Actor(owner)).run_id
        time.sleep(1.1)  # run ids start with the second they were made in: keep the order plain
    control.share(made["bobs-shared"], Actor("bob"))
    return made


def sign_in(page, app_url: str, name: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(app_url, timeout=NAVIGATION_MS)
    expect(page.get_by_text("Sign in to continue")).to_be_visible(timeout=60_000)
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_members_sign_in_see_theirs_and_shared_runs_and_sign_out(team_home, app_servers, browser):
    from playwright.sync_api import expect

    runs = queued_runs()
    _, app_url = app_servers(team_home, start_runner=False)
    alice = browser.new_context(viewport={"width": 1280, "height": 1200}).new_page()

    sign_in(alice, app_url, "alice", "not-her-password")
    expect(alice.get_by_role("alert")).to_have_text(re.compile("do not match"))
    alice.get_by_label("Password").fill(TEAM_PASSWORDS["alice"])
    alice.get_by_role("button", name="Sign in").click()
    expect(alice.get_by_text("Signed in as alice (member)")).to_be_visible(timeout=60_000)
    assert not alice.get_by_role("link", name="Admin").count(), "members have no Admin page"

    alice.goto(f"{app_url}/data", timeout=NAVIGATION_MS)  # the check runs in a bounded child process: it must work
    alice.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(REAL_CHATS))
    expect(alice.get_by_text("Read as ", exact=False).first).to_be_visible(timeout=NAVIGATION_MS)
    expect(alice.get_by_text("memory", exact=False)).to_have_count(0)

    alice.goto(f"{app_url}/runs", timeout=NAVIGATION_MS)
    expect(alice.get_by_role("combobox", name="Run")).to_have_value(runs["bobs-shared"], timeout=60_000)
    alice.get_by_role("combobox", name="Run").click()
    options = alice.get_by_role("option").all_inner_texts()
    assert sorted(options) == sorted([runs["alices-run"], runs["bobs-shared"]]), options
    alice.keyboard.press("Escape")
    expect(alice.get_by_text("Your jobs and the team's shared ones (2 running or waiting)")).to_be_visible()
    expect(alice.get_by_text("Also on this server: 1 run of other people's, running or waiting.")).to_be_visible()
    expect(alice.get_by_role("button", name="Cancel run")).to_be_disabled()

    refused = alice.request.put(f"{app_url}/_stcore/upload_file/any-session/any-file", data=b"x")
    assert refused.status == 403, "an upload without Streamlit's XSRF token is refused"

    ada = browser.new_context(viewport={"width": 1280, "height": 1200}).new_page()
    sign_in(ada, app_url, "ada", TEAM_PASSWORDS["ada"])
    expect(ada.get_by_text("Signed in as ada (admin)")).to_be_visible(timeout=60_000)
    ada.get_by_role("link", name="Admin").click()
    expect(ada.get_by_role("heading", name="Audit log")).to_be_visible(timeout=60_000)
    expect(ada.get_by_role("heading", name="Users")).to_be_visible()

    alice.get_by_role("link", name="Sign out").click()
    alice.get_by_role("button", name="Sign out").click()
    expect(alice.get_by_label("User name")).to_be_visible(timeout=30_000)
    alice.goto(f"{app_url}/runs", timeout=NAVIGATION_MS)
    expect(alice.get_by_text("Sign in to continue")).to_be_visible(timeout=60_000)

    events = [(event.user, event.action) for event in audit.events()]
    for expected in [("alice", "sign-in failed"), ("alice", "sign-in"), ("ada", "sign-in"), ("alice", "sign-out")]:
        assert expected in events, events
    assert not any(sessions.user_for(cookie["value"]) for cookie in alice.context.cookies()), "the session ended"
    server_log = (team_home / "streamlit-test.log").read_text()
    for secret in (*TEAM_PASSWORDS.values(), "not-her-password", (team_home / "session-key").read_text()):
        assert secret not in server_log and secret not in ada.content(), "no secret in the log or on a page"


@pytest.fixture
def provider(tmp_path):
    """The real OpenID provider on a free port, for an app that will listen on ``app_port``."""
    app_port = free_port()
    log = tmp_path / "provider.log"
    environment = {**os.environ, "OIDC_REDIRECT_URI": f"http://127.0.0.1:{app_port}/oauth2callback"}
    process = subprocess.Popen(
        ["node", "provider.mjs", "0"],
        cwd=PROVIDER,
        env=environment,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        found = wait_for(lambda: re.search(r"OIDC_PROVIDER_READY issuer=(\S+)", log.read_text()), 30, what="the OP")
        yield found.group(1), app_port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


def test_members_sign_in_and_out_through_a_real_openid_provider(
    team_home, app_servers, browser, provider, tmp_path, monkeypatch
):
    from playwright.sync_api import expect

    issuer, app_port = provider
    monkeypatch.setenv("WORKBENCH_AUTH", "oidc")
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "streamlit-app"\nclient_secret = "streamlit-app-secret"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
    )
    private = control.submit(RunConfig(run_name="bobs-private"), Actor("bob")).run_id
    _, app_url = app_servers(team_home, start_runner=False, port=app_port, extra=(f"--secrets.files={secrets_file}",))
    context = browser.new_context(viewport={"width": 1280, "height": 1200})
    context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"), lambda route: route.abort())  # the OP's fonts
    page = context.new_page()
    page.goto(app_url, timeout=NAVIGATION_MS)
    expect(page.get_by_text("Sign in to continue")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{issuer}/interaction/**")
    page.fill('input[name="login"]', "alice")
    page.fill('input[name="password"]', "the provider checks this, not the workbench")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Signed in as alice@example.test (member)")).to_be_visible(timeout=60_000)

    page.goto(f"{app_url}/runs", timeout=NAVIGATION_MS)
    expect(page.get_by_text("No runs yet")).to_be_visible(timeout=60_000)
    assert private not in page.content(), "bob's private run is not even named"
    assert ("alice@example.test", "sign-in") in [(event.user, event.action) for event in audit.events()]

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{issuer}/session/end**")
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page.get_by_text("Sign in to continue")).to_be_visible(timeout=60_000)
