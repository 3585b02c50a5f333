"""The sign-in and sign-out pages of built-in accounts, as plain HTTP routes served beside the Streamlit app
(``web.py`` mounts them): a real HTML form, so password managers and the Enter key work and the password never
travels through the app's websocket.

Each form carries a token that must equal the one in a cookie set with the form (double-submit, against cross-site
posts). A successful sign-in sets the session cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure`` over https) and
goes back to the page the user came from, which may only be a path on this server.
"""

import html
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from workbench.errors import UserError
from workbench.team import sessions, settings, signin


SIGNIN_PATH = "/account/signin"
SIGNOUT_PATH = "/account/signout"
FORM_COOKIE = "wb_form"
MAX_FORM_BYTES = 4096


async def signin_page(request: Request) -> Response:
    if request.method == "GET":
        return _form_page(request, "")
    form = await _read_form(request)
    if form is None:
        return _form_page(request, "The form had expired; sign in again.", status=400)
    address = request.client.host if request.client else ""
    try:
        cookie = await run_in_threadpool(signin.sign_in, form.get("name", ""), form.get("password", ""), address)
    except UserError as error:
        status = 429 if "Too many" in str(error) else 401
        return _form_page(request, str(error), form.get("name", ""), status)
    response = RedirectResponse(_safe_next(form.get("next", "/")), status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        cookie,
        max_age=int(settings.current().session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(FORM_COOKIE, path="/")
    return response


async def signout_page(request: Request) -> Response:
    if request.method == "GET":
        return _page(request, "Sign out", "<p>Sign out of SFT Workbench on this browser?</p>", "Sign out", "")
    if await _read_form(request) is None:
        return RedirectResponse(SIGNOUT_PATH, status_code=303)
    address = request.client.host if request.client else ""
    await run_in_threadpool(signin.sign_out, request.cookies.get(sessions.COOKIE), address)
    response = RedirectResponse(SIGNIN_PATH, status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


ROUTES = [
    Route(SIGNIN_PATH, signin_page, methods=["GET", "POST"]),
    Route(SIGNOUT_PATH, signout_page, methods=["GET", "POST"]),
]


async def _read_form(request: Request) -> dict[str, str] | None:
    """The posted fields, or None when the form token does not match its cookie (or the body is oversized)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    form = {key: str(value) for key, value in (await request.form()).items()}
    token, expected = form.get("form_token", ""), request.cookies.get(FORM_COOKIE, "")
    return form if expected and secrets.compare_digest(token, expected) else None


def _safe_next(target: str) -> str:
    """A path on this server to go back to; anything else (another site, ``//host``, a scheme) becomes ``/``."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and "\n" not in target:
        return target
    return "/"


def _form_page(request: Request, error: str, name: str = "", status: int = 200) -> Response:
    fields = (
        f'<input type="hidden" name="next" value="{html.escape(_safe_next(request.query_params.get("next", "/")))}">'
        '<label for="name">User name</label>'
        f'<input id="name" name="name" autocomplete="username" required maxlength="64" value="{html.escape(name)}"'
        f"{'' if name else ' autofocus'}>"
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required '
        f'maxlength="256"{" autofocus" if name else ""}>'
    )
    return _page(request, "Sign in", fields, "Sign in", error, status)


def _page(request: Request, title: str, body: str, button: str, error: str, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    page = PAGE.format(title=title, alert=alert, body=body, button=button, token=token)
    response = HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        FORM_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
    )
    return response


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · SFT Workbench</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f7fb; margin: 0; display: grid; place-items: center;
       min-height: 100vh; color: #1f2330; }}
main {{ background: white; padding: 2rem 2.2rem; border-radius: 12px; box-shadow: 0 2px 12px #0001; width: 20rem; }}
h1 {{ font-size: 1.3rem; margin: 0 0 1.2rem; }}
label {{ display: block; font-size: .9rem; margin: .8rem 0 .3rem; }}
input {{ width: 100%; box-sizing: border-box; padding: .55rem .6rem; border: 1px solid #c9ccd6; border-radius: 6px;
        font-size: 1rem; }}
button {{ margin-top: 1.3rem; width: 100%; padding: .6rem; border: 0; border-radius: 6px; background: #4f46e5;
         color: white; font-size: 1rem; cursor: pointer; }}
.error {{ background: #fdecec; color: #8a1c1c; padding: .6rem .7rem; border-radius: 6px; font-size: .9rem; }}
</style></head>
<body><main><h1>SFT Workbench · {title}</h1>{alert}
<form method="post">{body}<input type="hidden" name="form_token" value="{token}">
<button type="submit">{button}</button></form></main></body></html>
"""
