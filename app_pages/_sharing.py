"""The "Shared with the team" switch of a run or a dataset (team mode only); only its owner or an admin can turn it."""

import streamlit as st

from workbench.data import library
from workbench.errors import UserError
from workbench.jobs import control
from workbench.team import access, settings


def draw_sharing(kind: str, item: str, owner: str) -> None:
    if not settings.current().team:
        return
    actor = st.session_state["actor"]
    shared = access.is_shared(kind, item)
    allowed = access.may_manage(actor, owner)
    what = "run (its model, scores and answers)" if kind == "run" else "dataset (every version)"
    help_text = f"Everyone on the team may see this {what}." if allowed else f"Only {owner} or an admin can change it."
    wanted = st.toggle(
        f"Shared with the team · made by {owner or 'unknown'}",
        shared,
        help=help_text,
        disabled=not allowed,
        key=f"share-{kind}-{item}",
    )
    if wanted != shared:
        try:
            if kind == "run":
                control.share(item, actor, wanted)
            else:
                library.share_dataset(actor, item, wanted)
        except UserError as error:
            st.error(str(error))
        else:
            st.toast("Shared with the team." if wanted else "No longer shared.")
