"""Who is using the app: the sign-in gate every page passes through (local mode lets everyone in as the server's
user), the signed-in user in the sidebar, and the warning shown when the app listens beyond this machine without
team mode."""

import html
import urllib.parse

import streamlit as st

from workbench.errors import UserError
from workbench.team import access, settings, signin, signin_http
from workbench.team.identity import Actor


LOCAL_ADDRESSES = ("127.0.0.1", "localhost", "::1")


def signed_in() -> Actor | None:
    """The actor of this browser session, or None when nobody is signed in (team mode only)."""
    mode = settings.current()
    if not mode.team:
        return access.local_actor()
    if mode.auth == "accounts":
        return access.session_actor(st.context.cookies.get(signin.sessions.COOKIE))
    if mode.auth == "proxy":
        return access.proxy_actor(st.context.headers)
    if not st.user.is_logged_in:
        return None
    actor = access.oidc_actor(str(st.user.get("email") or st.user.get("sub") or ""))
    if actor is not None:
        signin.note_oidc_signin(actor.name, str(st.user.get("iat", "")), _address())
    return actor


def _address() -> str:
    return str(st.context.ip_address or "")


def gate() -> Actor:
    """The signed-in actor; otherwise draw the way to sign in and stop the page."""
    try:
        actor = signed_in()
    except UserError as error:  # a team setting that cannot be read: say so instead of a traceback
        st.error(str(error), icon=":material/error:")
        st.stop()
    if actor is None:
        draw_sign_in()
        st.stop()
    return actor


def draw_sign_in() -> None:
    mode = settings.current()
    st.title("SFT Workbench")
    with st.container(border=True):
        st.subheader("Sign in to continue")
        if mode.auth == "accounts":
            st.write("This workbench is shared by a team; sign in with the name and password an admin gave you.")
            back = urllib.parse.quote(urllib.parse.urlsplit(st.context.url or "/").path or "/")
            same_tab_link("Sign in", f"{signin_http.SIGNIN_PATH}?next={back}", primary=True)
        elif mode.auth == "oidc":
            st.write("This workbench is shared by a team; sign in with your organisation's account.")
            if st.button("Sign in", type="primary", icon=":material/login:"):
                st.login()
        else:
            st.error(
                "The sign-in proxy in front of this workbench did not say who you are; open the workbench through "
                "its usual address, or ask your admin to check the proxy.",
                icon=":material/error:",
            )


def same_tab_link(label: str, href: str, primary: bool = False) -> None:
    """A link drawn as a button that opens in this tab (``st.link_button`` opens a new one, which would leave the
    signed-out page behind). ``href`` is always one of this server's own paths."""
    colours = "background:#4f46e5;color:white;" if primary else "border:1px solid #c9ccd6;color:inherit;"
    style = f"display:inline-block;padding:.4rem .9rem;border-radius:.5rem;text-decoration:none;{colours}"
    st.markdown(f'<a href="{html.escape(href)}" target="_self" style="{style}">{label}</a>', unsafe_allow_html=True)


def draw_identity(actor: Actor) -> None:
    """The signed-in user and the way out, at the bottom of the sidebar (team mode only)."""
    mode = settings.current()
    if not mode.team:
        return
    with st.sidebar:
        st.caption(f"Signed in as **{actor.name}** ({actor.role})")
        if mode.auth == "accounts":
            same_tab_link("Sign out", signin_http.SIGNOUT_PATH)
        elif mode.auth == "oidc" and st.button("Sign out", icon=":material/logout:"):
            st.logout()


def warn_if_exposed() -> None:
    """Every page warns when the app listens beyond this machine while anyone who reaches it is the server's user."""
    if settings.current().team:
        return
    address = (st.get_option("server.address") or "").strip()
    if address not in LOCAL_ADDRESSES:
        where = f"on {address}" if address else "on every network interface"
        st.warning(
            f"This workbench listens {where} without team mode: anyone who can reach it acts as the server's user "
            "and can see and delete every run. Set WORKBENCH_MODE=team (see the README's Team server section), "
            "or bind it to 127.0.0.1.",
            icon=":material/warning:",
        )
