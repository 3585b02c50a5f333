"""The Data page's column-mapping form: which column holds the question, the answer, a system prompt or text."""

import streamlit as st

from workbench.data.checking import FileCheck
from workbench.data.mapping import ColumnMapping


FIELDS = {"prompt": "Question (user)", "completion": "Answer (assistant)", "system": "System", "text": "Plain text"}
NONE = "(none)"


def mapping_form(report: FileCheck, digest: str) -> None:
    st.warning("Which column holds what? Pick the question and answer columns, or only a text column for plain text.")
    guess = {key: value or NONE for key, value in (report.suggested_mapping or ColumnMapping().to_dict()).items()}
    options, picks = [NONE, *report.columns], {}
    with st.form("data_mapping_form"):
        for column, (key, label) in zip(st.columns(4), FIELDS.items(), strict=True):
            picks[key] = column.selectbox(label, options, options.index(guess[key]), key=f"map_{key}")
        if st.form_submit_button("Use these columns", type="primary"):
            mapping = {key: "" if value == NONE else value for key, value in picks.items()}
            st.session_state["data_mapping"] = {"for": digest, "mapping": mapping}
            st.rerun()
