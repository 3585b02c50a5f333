"""Account (team mode): who you are signed in as, your password, and your API tokens for the model server."""

import streamlit as st

from workbench.chat import playground
from workbench.errors import UserError
from workbench.team import settings, signin, tokens


actor = st.session_state["actor"]
st.title("Account")
st.write(f"Signed in as **{actor.name}**, {'an admin' if actor.admin else 'a member'} of this workbench.")

if settings.current().auth == "accounts":
    with st.expander("Change your password", icon=":material/password:"), st.form("password", clear_on_submit=True):
        current = st.text_input("Current password", type="password", autocomplete="current-password")
        new = st.text_input("New password (at least 10 characters)", type="password", autocomplete="new-password")
        again = st.text_input("New password again", type="password", autocomplete="new-password")
        if st.form_submit_button("Change the password", type="primary"):
            try:
                if new != again:
                    raise UserError("The two new passwords differ; type them again.")
                signin.change_own_password(actor, current, new)
            except UserError as error:
                st.error(str(error))
            else:
                st.success("Password changed; your sessions on other browsers have ended.")

st.subheader("API tokens")
st.write(
    "A token lets your own code (a notebook, an agent) chat with the runs you may see through the model server's "
    "OpenAI-compatible API. It is shown once, when you make it."
)
with st.form("new_token", clear_on_submit=True, border=False):
    label = st.text_input("What is it for?", placeholder="e.g. evaluation notebook", max_chars=64)
    if st.form_submit_button("Make a token", icon=":material/key:"):
        st.session_state["new_token"] = tokens.create(actor, label)
if token := st.session_state.pop("new_token", None):
    st.success("Copy this token now; it will not be shown again.", icon=":material/key:")
    st.code(token, language=None)
    address = playground.server_address() or "http://127.0.0.1:PORT"
    st.code(
        "from openai import OpenAI\n\n"
        f'client = OpenAI(base_url="{address}/v1", api_key="{token}")\n'
        'reply = client.chat.completions.create(model="RUN_ID", messages=[{"role": "user", "content": "Hi"}])',
        language="python",
    )
mine = tokens.list_tokens(actor)
if not mine:
    st.caption("You have no tokens yet.")
else:
    st.dataframe(
        [{"id": t.id, "user": t.user, "label": t.label, "last used": t.last_used or "never"} for t in mine],
        hide_index=True,
    )
    chosen = st.selectbox(
        "Token to revoke",
        [t.id for t in mine],
        format_func=lambda i: f"{i} · " + next(t.label for t in mine if t.id == i),
    )
    if st.button("Revoke it", icon=":material/block:"):
        tokens.revoke(actor, chosen)
        st.rerun()
