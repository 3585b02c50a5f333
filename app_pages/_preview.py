"""The Data page's preview: every usable record, a page at a time, found by a search, drawn as the chat it is
(tool calls as JSON, and the tool descriptions the record gives the model)."""

from pathlib import Path
from typing import Any

import streamlit as st

from workbench.data import checking
from workbench.data.reports import describe_call
from workbench.errors import UserError
from workbench.words import plural


ICONS = {"system": ":material/settings:", "tool": ":material/build:"}


@st.cache_data(show_spinner="Finding the records…", max_entries=16)
def preview_page(path: str, name: str, mapping: dict | None, query: str, page: int) -> checking.PreviewPage:
    return checking.preview(Path(path), name, mapping, query, page)


def show_preview(path: Path, name: str, mapping: dict | None) -> None:
    search, page_box = st.columns([3, 1])
    query = search.text_input("Search the records", key="data_preview_query", placeholder="a word or phrase")
    page = int(page_box.number_input("Page", min_value=1, value=1, step=1, key="data_preview_page"))
    try:
        found = preview_page(str(path), name, mapping, query.strip(), page)
    except UserError as error:
        st.error(str(error))
        return
    if not found.matches:
        st.info(f"No record holds “{query.strip()}”.")
        return
    shown = min(page, found.pages)
    st.caption(f"{plural(found.matches, 'record')}{' match' if query.strip() else ''} · page {shown} of {found.pages}")
    for where, row in found.rows:
        show_record(where, row)


def show_record(where: str, row: dict[str, Any]) -> None:
    with st.container(border=True):
        st.caption(where.capitalize())
        if "text" in row:
            st.text(row["text"][:2000])
        if tools := row.get("tools"):
            with st.expander(f"{plural(len(tools), 'tool')} described to the model", icon=":material/build:"):
                st.json(tools, expanded=False)
        for turn in row.get("messages", ()):
            with st.chat_message(turn["role"], avatar=ICONS.get(turn["role"])):
                if turn["content"]:
                    st.write(turn["content"][:5000])
                for call in turn.get("tool_calls", ()):
                    st.code(describe_call(call), language="json")
