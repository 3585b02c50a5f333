"""Datasets: the library of saved datasets and their versions; see what the model sees, add a validation set, train.

Versions never change once saved. Splitting off a validation set (at random, or from a separate file) saves a new
version whose validation records training uses for its held-out score.
"""

from pathlib import Path

import streamlit as st

from app_pages._sharing import draw_sharing
from workbench.config import RunConfig
from workbench.data import (
    cleaning,
    library,
    library_tables,
    model_view,
    page_lines,
    reports,
    sources,
    tokens,
    uploads,
    validation,
)
from workbench.errors import UserError


@st.cache_resource(show_spinner="Reading the version…", max_entries=2)
def read(path: str, sha256: str, model: str, max_length: int) -> reports.DataReport:
    return sources.read_dataset(Path(path), tokens.tokenizer_for(model) if model else None, max_length)


def show_model_view(report: reports.DataReport, model: str, max_length: int) -> None:
    if not model:
        st.info("Name a model above to see its chat template at work.")
        return
    for message in report.template_warnings():
        st.warning(message)
    if report.template:
        st.caption(report.template)
    number = st.number_input("Record to show", 1, len(report.rows), 1, key="datasets_seen_row")
    try:
        pieces = model_view.what_the_model_sees(report.rows[int(number) - 1], tokens.tokenizer_for(model), max_length)
    except UserError as error:
        st.error(str(error))
        return
    st.html(model_view.LEGEND + model_view.pieces_html(pieces, max_length))
    cut = max(0, len(pieces) - max_length)
    st.caption(f"{len(pieces)} tokens; training learns from {sum(p.trained for p in pieces)} of them; {cut} are cut.")


def validation_section(version: library.Version, report: reports.DataReport) -> None:
    if version.validation_file:
        st.info(f"This version has {version.validation_rows} validation records. {version.note}")
    how = st.radio("Validation records come from", ["a random share of this version", "a separate file"], key="how")
    if how.startswith("a random"):
        left, right = st.columns(2)
        share = left.slider("Share for validation (%)", 1, 50, 10, key="datasets_share") / 100
        seed = int(right.number_input("Random seed", 0, 2**31 - 1, 0, key="datasets_seed"))
        if st.button("Save a new version with this split", type="primary"):
            train, held_out = cleaning.split_for_validation(report.rows, share, seed)
            save(version, train, held_out, {"fraction": share, "seed": seed})
        return
    upload = st.file_uploader("Validation file: JSONL, JSON, CSV or Parquet", key="datasets_validation_upload")
    if upload is None:
        return
    uploads.save_upload(upload.name, upload.getvalue())
    checked = validation.validate(upload.getvalue(), upload.name)
    overlap = validation.overlap_problems(report, checked)
    (st.success if checked.ok else st.warning if checked.usable else st.error)(checked.summary())
    for line in page_lines.problem_lines(checked, 20) + [f":orange[●] {item}" for item in overlap[:20]]:
        st.markdown(line)
    if st.button("Save a new version with this validation file", type="primary", disabled=not checked.usable):
        save(version, report.rows, checked.rows, {"file": uploads.label_of(upload.name)})


def save(base: library.Version, train: list, held_out: list, split: dict) -> None:
    note = cleaning.split_note(base, len(held_out), split, len(validation.overlapping(train, held_out)))
    saved = library.save_version(
        base, train, note, validation_rows=held_out, split=split, actor=st.session_state["actor"]
    )
    st.session_state["datasets_next"] = saved.version  # selected on the rerun, before the widget exists
    if saved.already_saved:
        st.session_state["datasets_notice"] = f"This split is already saved as {saved.label}; no copy was made."
    st.rerun()


st.title("Datasets")
if notice := st.session_state.pop("datasets_notice", None):
    st.info(notice, icon=":material/info:")
all_datasets = library.visible_datasets(st.session_state["actor"])
if not all_datasets:
    st.info("No datasets yet. Check a file on the Data page and save it as a version.", icon=":material/folder_open:")
    st.page_link("app_pages/data.py", label="Go to the Data page")
    st.stop()
st.dataframe(library_tables.library_table(all_datasets), hide_index=True)
by_id = {versions[0].dataset_id: versions for versions in all_datasets}
dataset_id = st.selectbox("Dataset", list(by_id), format_func=lambda key: by_id[key][0].name, key="datasets_pick")
versions = by_id[dataset_id]
st.dataframe(library_tables.versions_table(versions), hide_index=True)
draw_sharing("dataset", dataset_id, library.dataset_owner(dataset_id))
numbers = [version.version for version in reversed(versions)]
wanted = st.session_state.pop("datasets_next", None)
if wanted in numbers or st.session_state.get("datasets_version") not in numbers:
    st.session_state["datasets_version"] = wanted if wanted in numbers else numbers[0]
number = st.selectbox("Version", numbers, format_func=lambda n: f"v{n}", key="datasets_version")
version = library.get_version(dataset_id, number)
left, right = st.columns([3, 1])
model = left.text_input(
    "Model for token counts", "demo", key="datasets_model", help="'demo', a model folder or hub id"
)
max_length = int(right.number_input("Max length (tokens)", 16, 131072, RunConfig().max_length, key="datasets_max"))
try:
    report = read(str(version.path), version.sha256, model.strip(), max_length)
except UserError as error:
    st.error(str(error))
    st.stop()

(st.success if report.ok else st.warning)(f"{version.label}: {report.summary()}")
for line in page_lines.problem_lines(report, 20):
    st.markdown(line)
left, right = st.columns(2)
left.download_button("Download this version", version.path.read_bytes(), f"{version.name}-v{version.version}.jsonl")
if not report.ok:
    st.warning("This version has records with errors; save a cleaned version on the Data page before training.")
elif right.button("Use this version for training", type="primary", icon=":material/tune:"):
    st.session_state["train_dataset"] = str(version.path)  # the Train page takes it (and shows its label)
    st.switch_page("app_pages/train.py")
if report.rows:
    seen, split = st.tabs(["What the model sees", "Validation set"])
    with seen:
        show_model_view(report, model.strip(), max_length)
    with split:
        validation_section(version, report)
