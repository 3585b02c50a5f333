"""Data: check a file (in a bounded child process, keeping only the summary), see each problem in plain words, its
token lengths and a preview; save it as a version."""

from pathlib import Path

import streamlit as st

from app_pages._mapping import mapping_form
from app_pages._preview import show_preview
from app_pages._save import save_section, use_for_training
from workbench import charts
from workbench.config import RunConfig
from workbench.data import checking, server_folder, uploads
from workbench.data.checking import FileCheck
from workbench.errors import UserError


UP = ":material/upload:"


@st.cache_resource(show_spinner="Checking every record…", max_entries=8)
def check(path: str, name: str, mapping: dict | None, model: str, max_length: int) -> FileCheck:
    return checking.check(Path(path), name, mapping, model, max_length)


def choose_file() -> tuple[str, Path] | None:
    sources = ["Upload a file"] + (["Pick from the server folder"] if server_folder.root() else [])
    source = sources[0]  # one way in needs no choice
    if len(sources) > 1:
        source = st.radio("Source", sources, horizontal=True, key="data_source", label_visibility="collapsed")
    if source == "Upload a file":
        upload = st.file_uploader("Dataset file: JSONL, JSON, CSV or Parquet", key="data_upload")
        return (upload.name, uploads.save_upload(upload.name, upload.getvalue())) if upload is not None else None
    picked = st.selectbox("File in the server folder", server_folder.list_files(), key="data_server_file")
    return (picked, server_folder.path_of(picked)) if picked else None


def show_problems(report: FileCheck) -> None:
    for line in report.problem_lines:
        st.markdown(line)
    if report.problems_csv:
        st.download_button("Download the list of problems (CSV)", report.problems_csv, "problems.csv")


def show_overview(report: FileCheck, max_length: int) -> None:
    for column, (label, value, help_text) in zip(st.columns(4), report.metrics, strict=True):
        column.metric(label, value, help=help_text)
    st.caption(report.roles_caption)
    for message in report.template_warnings:
        st.warning(message)
    if report.template:
        st.caption(report.template)
    if report.token_lengths is not None:
        st.plotly_chart(charts.token_length_figure(report.token_lengths, max_length), width="stretch")
        st.caption(report.token_caption)


st.title("Data")
st.write("Check a dataset before any training: chat **messages**, ShareGPT, Alpaca, prompt/completion or plain text.")
left, right = st.columns([3, 1])
model = left.text_input("Model for token counts", "demo", key="data_model", help="'demo', a model folder or hub id")
max_length = int(right.number_input("Max length (tokens)", 16, 131072, RunConfig().max_length, key="data_max_length"))
try:
    chosen = choose_file()
    if chosen is None:
        st.info("No file yet. Upload one, or train on the built-in demo dataset from the Train page.", icon=UP)
        st.stop()
    name, path = chosen
    saved_mapping = st.session_state.get("data_mapping") or {}
    mapping = saved_mapping.get("mapping") if saved_mapping.get("for") == str(path) else None
    report = check(str(path), name, mapping, model.strip(), max_length)
except UserError as error:
    st.error(str(error))
    st.stop()

if report.needs_mapping:
    mapping_form(report, str(path))
    st.stop()
if report.mapped and st.button("Change the column mapping"):
    st.session_state["data_mapping"] = None
    st.rerun()
if report.ok:
    add_original = lambda: checking.add_original(path, name, mapping, st.session_state["actor"])  # noqa: E731 - on click only
    st.success(report.loaded_message)
    use_for_training("Use this dataset for training", add_original)
else:
    (st.warning if report.usable else st.error)(report.summary)
if report.layout:
    st.caption(f"Read as {report.layout}.")
show_problems(report)
if report.rows:
    overview, preview, clean = st.tabs(["Overview", "Preview", "Clean and save"])
    with overview:
        show_overview(report, max_length)
    with preview:
        show_preview(path, name, mapping)
    with clean:
        save_section(report, name, path, mapping, model.strip(), max_length)
