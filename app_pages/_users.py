"""The Admin page's user list: who may sign in, their roles; add, re-role and remove users."""

import streamlit as st

from workbench import words
from workbench.errors import UserError
from workbench.team import settings, users
from workbench.team.identity import ROLES


def draw_users() -> None:
    actor = st.session_state["actor"]
    listed = users.list_users()
    st.dataframe(
        [
            {
                "user": u.name,
                "role": u.role,
                "signs in with": "password" if u.has_password else u.source,
                "since": words.clock(u.created_at),
            }
            for u in listed
        ],
        hide_index=True,
    )
    passwords = settings.current().auth == "accounts"
    with st.expander("Add a user", icon=":material/person_add:"), st.form("add_user", clear_on_submit=True):
        name = st.text_input("User name", max_chars=64, help="Letters, digits and . @ + - _ ; an e-mail address works")
        role = st.radio("Role", ROLES, index=1, horizontal=True)
        password = st.text_input("First password (they can change it)", type="password") if passwords else None
        if st.form_submit_button("Add", type="primary"):
            _act(lambda: users.add(actor, name, password, role, "accounts" if passwords else "oidc"), f"Added {name}.")
    if not listed:
        return
    with st.expander("Change a role or remove a user", icon=":material/manage_accounts:"):
        chosen = st.selectbox("User", [u.name for u in listed], key="admin_user")
        left, right = st.columns(2)
        new_role = left.radio("Role", ROLES, horizontal=True, key="admin_role")
        if left.button("Set the role"):
            _act(lambda: users.set_role(actor, chosen, new_role), f"{chosen} is now {new_role}.")
        sure = right.checkbox(f"Yes, remove {chosen}", key="admin_remove_sure")
        if right.button("Remove", disabled=not sure, icon=":material/person_remove:"):
            _act(lambda: users.remove(actor, chosen), f"Removed {chosen}; their sessions and tokens ended.")


def _act(action, done: str) -> None:
    try:
        action()
    except UserError as error:
        st.error(str(error))
    else:
        st.toast(done)
        st.rerun()
