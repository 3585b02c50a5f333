"""Tests for workbench.team.signin_http: the sign-in form sets a signed HttpOnly session cookie, refuses posts without
the form's token, never redirects off the server, and sign-out ends the session."""

from conftest import TEAM_PASSWORDS
from starlette.applications import Starlette
from starlette.testclient import TestClient

from workbench.team import sessions, signin_http


def client() -> TestClient:
    return TestClient(Starlette(routes=signin_http.ROUTES), follow_redirects=False)


def signed_in(browser: TestClient, name: str, password: str, next_path: str = "/runs"):
    browser.get(signin_http.SIGNIN_PATH)
    token = browser.cookies[signin_http.FORM_COOKIE]
    fields = {"name": name, "password": password, "next": next_path, "form_token": token}
    return browser.post(signin_http.SIGNIN_PATH, data=fields)


def test_signing_in_sets_an_httponly_signed_session_and_goes_back(team_home):
    browser = client()
    page = browser.get(signin_http.SIGNIN_PATH)
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
    answer = signed_in(browser, "alice", TEAM_PASSWORDS["alice"])
    assert answer.status_code == 303 and answer.headers["location"] == "/runs"
    cookie_header = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=lax" in cookie_header and "Path=/" in cookie_header
    assert sessions.user_for(browser.cookies[sessions.COOKIE]) == "alice"


def test_a_wrong_password_shows_the_form_again_with_the_sentence(team_home):
    answer = signed_in(client(), "alice", "wrong-password-here")
    assert answer.status_code == 401 and "do not match" in answer.text and "wrong-password-here" not in answer.text
    assert sessions.COOKIE not in answer.cookies


def test_a_post_without_the_forms_token_is_refused(team_home):
    browser = client()
    fields = {"name": "alice", "password": TEAM_PASSWORDS["alice"], "form_token": "guessed"}
    answer = browser.post(signin_http.SIGNIN_PATH, data=fields)
    assert answer.status_code == 400 and sessions.COOKIE not in answer.cookies


def test_the_way_back_never_leaves_the_server(team_home):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        answer = signed_in(client(), "alice", TEAM_PASSWORDS["alice"], target)
        assert answer.headers["location"] == "/", target


def test_signing_out_ends_the_session(team_home):
    browser = client()
    signed_in(browser, "bob", TEAM_PASSWORDS["bob"])
    cookie = browser.cookies[sessions.COOKIE]
    browser.get(signin_http.SIGNOUT_PATH)
    fields = {"form_token": browser.cookies[signin_http.FORM_COOKIE]}
    answer = browser.post(signin_http.SIGNOUT_PATH, data=fields)
    assert answer.status_code == 303 and answer.headers["location"] == signin_http.SIGNIN_PATH
    assert sessions.user_for(cookie) is None
