"""Data: check a file, see each problem in plain words, its token lengths and a preview; save it as a version."""

import hashlib
from collections.abc import Callable

import streamlit as st

from workbench import charts
from workbench.config import RunConfig
from workbench.data import cleaning, library, reports, server_folder, tokens, validation
from workbench.data.mapping import ColumnMapping
from workbench.errors import UserError


SHOWN_PROBLEMS = 50
ICONS = {"system": ":material/settings:", "tool": ":material/build:"}
FIELDS = {"prompt": "Question (user)", "completion": "Answer (assistant)", "system": "System", "text": "Plain text"}
NONE, UP, LIBRARY = "(none)", ":material/upload:", ":material/search:"


@st.cache_resource(show_spinner="Checking every record…", max_entries=4)
def check(content: bytes, name: str, mapping: dict | None, model: str, max_length: int) -> reports.DataReport:
    tokenizer = tokens.tokenizer_for(model) if model else None
    return validation.validate(content, name, ColumnMapping.from_dict(mapping), tokenizer, max_length)


def choose_file() -> tuple[str, bytes] | None:
    sources = ["Upload a file"] + (["Pick from the server folder"] if server_folder.root() else [])
    source = st.radio("Source", sources, horizontal=True, key="data_source", label_visibility="collapsed")
    if source == "Upload a file":
        upload = st.file_uploader("Dataset file: JSONL, JSON, CSV or Parquet", key="data_upload")
        if upload is None:
            return None
        library.save_upload(upload.name, upload.getvalue())  # kept on disk as it arrived
        return upload.name, upload.getvalue()
    picked = st.selectbox("File in the server folder", server_folder.list_files(), key="data_server_file")
    return (picked, server_folder.read_file(picked)) if picked else None


def mapping_form(report: reports.DataReport, digest: str) -> None:
    st.warning("Which column holds what? Pick the question and answer columns, or only a text column for plain text.")
    guess = {key: value or NONE for key, value in (report.suggested_mapping or ColumnMapping()).to_dict().items()}
    options, picks = [NONE, *report.columns], {}
    with st.form("data_mapping_form"):
        for column, (key, label) in zip(st.columns(4), FIELDS.items(), strict=True):
            picks[key] = column.selectbox(label, options, options.index(guess[key]), key=f"map_{key}")
        if st.form_submit_button("Use these columns", type="primary"):
            mapping = {key: "" if value == NONE else value for key, value in picks.items()}
            st.session_state["data_mapping"] = {"for": digest, "mapping": mapping}
            st.rerun()


def show_problems(report: reports.DataReport) -> None:
    for line in reports.problem_lines(report, SHOWN_PROBLEMS):
        st.markdown(line)
    if report.problems:
        st.download_button("Download the list of problems (CSV)", reports.problems_csv(report), "problems.csv")


def show_overview(report: reports.DataReport, max_length: int) -> None:
    for column, (label, value, help_text) in zip(st.columns(4), report.metrics(max_length), strict=True):
        column.metric(label, value, help=help_text)
    st.caption(report.roles_caption())
    for message in report.template_warnings():
        st.warning(message)
    if report.tokens is not None:
        st.plotly_chart(charts.token_length_figure(report.tokens.counted(), max_length), width="stretch")
        st.caption(reports.token_caption(report))


def show_preview(report: reports.DataReport) -> None:
    for index, row in enumerate(report.rows[:3]):
        with st.container(border=True):
            st.caption(report.where(index).capitalize())
            if "text" in row:
                st.text(row["text"][:2000])
            for turn in row.get("messages", ()):
                with st.chat_message(turn["role"], avatar=ICONS.get(turn["role"])):
                    if turn["content"]:
                        st.write(turn["content"])
                    for call in turn.get("tool_calls", ()):
                        st.code(reports.describe_call(call), language="json")


def save_section(report: reports.DataReport, name: str, content: bytes) -> None:
    bad = report.total - len(report.rows)
    st.write(f"A new version keeps the usable records and leaves out the {bad} with errors; your file stays as it is.")
    dups = bool(report.duplicates) and st.checkbox(f"Also drop the {report.duplicates} duplicates", value=True)
    long = 0 < report.too_long < len(report.rows) and st.checkbox(f"Also drop the {report.too_long} too-long records")
    if st.button("Save as a new dataset version", type="primary"):
        try:
            by = st.session_state.get("user")
            st.session_state["data_saved"] = cleaning.save_cleaned(name, content, report, dups, long, by)
        except UserError as error:
            st.error(str(error))
    saved = st.session_state.get("data_saved")
    if saved is not None and saved.name == library.label_of(name):
        st.success(f"Saved {saved.label}: {saved.rows} records ({saved.format}). {saved.note}")
        st.page_link("app_pages/datasets.py", label="What the model sees; split off a validation set", icon=LIBRARY)
        use_for_training("Use this version for training", lambda: saved)


def use_for_training(button: str, version: Callable[[], library.Version]) -> None:
    if st.button(button, type="primary", icon=":material/tune:"):
        st.session_state["train_dataset"] = str(version().path)  # the Train page takes it (and shows its label)
        st.switch_page("app_pages/train.py")


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
    name, content = chosen
    digest, saved_mapping = hashlib.sha256(content).hexdigest(), st.session_state.get("data_mapping") or {}
    mapping = saved_mapping.get("mapping") if saved_mapping.get("for") == digest else None
    report = check(content, name, mapping, model.strip(), max_length)
except UserError as error:
    st.error(str(error))
    st.stop()

if report.needs_mapping:
    mapping_form(report, digest)
    st.stop()
if report.mapping is not None and st.button("Change the column mapping"):
    st.session_state["data_mapping"] = None
    st.rerun()
if report.ok:
    st.success(report.loaded_message(name))
    add_original = lambda: library.create_dataset(name, content, report, st.session_state.get("user"))  # noqa: E731 - on click only
    use_for_training("Use this dataset for training", add_original)
else:
    (st.warning if report.usable else st.error)(report.summary())
if report.format:
    st.caption(f"Read as {reports.describe_format(report)}.")
show_problems(report)
if report.rows:
    overview, preview, clean = st.tabs(["Overview", "Preview", "Clean and save"])
    with overview:
        show_overview(report, max_length)
    with preview:
        show_preview(report)
    with clean:
        save_section(report, name, content)
