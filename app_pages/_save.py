"""The Data page's "Clean and save" tab: leave out bad, repeated or too-long records, fill in {{placeholders}}, and
save the result as a new version (saving the same result again says so instead of making a copy)."""

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from workbench.data import checking, library, uploads
from workbench.data.checking import FileCheck
from workbench.errors import UserError
from workbench.words import plural


LIBRARY = ":material/search:"


def save_section(report: FileCheck, name: str, path: Path, mapping: dict | None, model: str, max_length: int) -> None:
    bad = report.total - report.rows
    st.write(f"A new version keeps the usable records and leaves out the {bad} with errors; your file stays as it is.")
    dups = bool(report.duplicates) and st.checkbox(f"Also drop the {report.duplicates} duplicates", value=True)
    long = 0 < report.too_long < report.rows and st.checkbox(f"Also drop the {report.too_long} too-long records")
    fills = placeholder_form(report)
    if st.button("Save as a new dataset version", type="primary"):
        try:
            how = checking.Cleaning(bool(dups), bool(long), st.session_state["actor"], fills)
            with st.spinner("Checking every record again and saving the version…"):
                saved = checking.save_cleaned(path, name, mapping, model, max_length, how)
            st.session_state["data_saved"] = saved
        except UserError as error:
            st.error(str(error))
    saved = st.session_state.get("data_saved")
    if saved is not None and saved.name == uploads.label_of(name):
        if saved.already_saved:
            st.info(f"These records are already saved as {saved.label}; no second copy was made.", icon=LIBRARY)
        else:
            st.success(f"Saved {saved.label}: {plural(saved.rows, 'record')} ({saved.format}). {saved.note}")
        st.page_link("app_pages/datasets.py", label="What the model sees; split off a validation set", icon=LIBRARY)
        use_for_training("Use this version for training", lambda: saved)


def placeholder_form(report: FileCheck) -> dict[str, str]:
    """A text box per unfilled {{name}}; what is typed replaces it in the saved version (empty boxes leave it)."""
    if not report.placeholders:
        return {}
    st.write("Fill in the placeholders the records still hold (leave a box empty to keep it as it is):")
    columns = st.columns(min(3, len(report.placeholders)))
    return {
        name: columns[index % len(columns)].text_input(
            f"{{{{{name}}}}} in {plural(count, 'record')}", key=f"data_fill_{name}", max_chars=200
        )
        for index, (name, count) in enumerate(report.placeholders.items())
    }


def use_for_training(button: str, version: Callable[[], library.Version]) -> None:
    if st.button(button, type="primary", icon=":material/tune:"):
        try:
            st.session_state["train_dataset"] = str(version().path)  # the Train page takes it (and shows its label)
        except UserError as error:
            return st.error(str(error))
        st.switch_page("app_pages/train.py")
