"""Train: pick the model, data and a preset, check memory and time before Start, then queue the run."""

from typing import Any

import streamlit as st

from app_pages import _form as form
from app_pages._preflight import counted_lengths, draw_preflight
from workbench.config import DEMO_DATASET, DEMO_MODEL, GROUPS, METHOD_LABELS, METHODS, field_help
from workbench.data import sources
from workbench.errors import UserError
from workbench.jobs import control
from workbench.models.device import default_method, device_info
from workbench.planning import fitting, presets


SOURCES = ("Built-in demo model", "Local folder or hub id")
BASIC = ("num_train_epochs", "learning_rate", "per_device_train_batch_size", "max_length")


def apply_preset() -> None:
    """Fill every training setting from the chosen preset, fitted to the data and the model (nothing when none is
    chosen), and keep the sentences that say what changed."""
    name = st.session_state.get("train_preset")
    st.session_state.pop("train_fitted", None)
    if name in presets.PRESETS:
        try:
            base = form.config()
            sources.check_browser_access(base)
            fitted = fitting.fit_to_data(name, base, counted_lengths(base), device_info())
        except UserError as error:
            st.session_state["train_notice"] = str(error)
        else:
            form.set_values(fitted.config.to_dict())
            st.session_state["train_fitted"] = fitted.changes


def change(field: str, value: Any) -> None:
    """A change of model, data or method: the chosen preset (if any) adapts the other settings to it."""
    form.set_values({field: value})
    apply_preset()


def take_handoff() -> None:
    """A dataset chosen on the Data or Datasets page becomes the training data, with the Balanced preset."""
    handed = st.session_state.pop("train_dataset", None)  # taken once, so handing the same file again works too
    if handed:
        form.set_values({"dataset": handed, "run_name": ""})
        st.session_state["train_preset"] = "Balanced"
        apply_preset()


st.title("Train")
device = device_info()  # read every time: free GPU memory changes as other runs start and end
preselected_method, reason = default_method(device)
st.caption(f"Training device: {device.name}. {reason}")
st.session_state.setdefault(form.VALUES, presets.demo_config(method=preselected_method).to_dict())
take_handoff()
values = form.values()
if notice := st.session_state.pop("train_notice", None):
    st.error(notice)

st.subheader("1. Model and data")
source = SOURCES[0] if values["model"] == DEMO_MODEL else SOURCES[1]
pick_source = lambda label: change("model", DEMO_MODEL if label == SOURCES[0] else "")  # noqa: E731
st.radio("Model", SOURCES, horizontal=True, **form.synced("train_model_source", source, pick_source))
if values["model"] != DEMO_MODEL:
    st.text_input(
        "Model folder or hub id",
        placeholder="/models/Qwen2.5-0.5B-Instruct",
        help=field_help("model"),
        **form.synced("train_model_path", values["model"], lambda text: change("model", text.strip())),
    )
picked = values["dataset"] if values["dataset"] != DEMO_DATASET else None
choices = sources.training_choices(picked, st.session_state["actor"])
label = next((label for label, reference in choices.items() if reference == values["dataset"]), next(iter(choices)))
st.selectbox(
    "Dataset",
    list(choices),
    help=field_help("dataset"),
    **form.synced("train_dataset_pick", label, lambda picked: change("dataset", choices[picked])),
)
st.radio(
    "Method",
    METHODS,
    format_func=METHOD_LABELS.get,
    horizontal=True,
    help=field_help("method"),
    **form.synced("train_method", values["method"], lambda picked: change("method", picked)),
)

st.subheader("2. How much training")
st.segmented_control(
    "Preset",
    presets.PRESETS,
    key="train_preset",
    on_change=apply_preset,
    help="Fills in every setting from the size of your dataset; you can still change any of them below.",
)
if (preset := st.session_state.get("train_preset")) in presets.PRESETS:
    st.caption(presets.preset_description(preset))
    if fitted := st.session_state.get("train_fitted"):
        st.info("**Fitted to your data:**\n" + "\n".join(f"- {change}" for change in fitted), icon=":material/tune:")
elif {**values, "run_name": "demo"} == presets.demo_config(method=values["method"]).to_dict():
    st.caption("The demo uses its own tested recipe; picking a preset replaces it.")
for column, name in zip(st.columns(len(BASIC)), BASIC, strict=True):
    form.draw_named(name, column)
if st.toggle("Advanced settings", key="train_advanced"):
    for group in GROUPS[1:]:
        form.draw_group(group)

try:
    config = form.config()
    problems = config.validate() + control.queue_refusals(st.session_state["actor"])  # said before Start, not after
    sources.check_browser_access(config)
except UserError as error:
    config, problems = None, [str(error)]

st.subheader("3. Pre-flight check")
checked = draw_preflight(config, device) if config is not None and not problems else None
verdict = checked.verdict if checked is not None else None
for problem in problems:
    st.error(problem)
with st.expander("Settings as YAML: download them, or load a file", icon=":material/description:"):
    if config is not None:
        st.download_button("Download these settings (.yaml)", config.to_yaml(), "run.yaml", "application/yaml")
    st.file_uploader(
        "Load settings from a YAML file",
        type=["yaml", "yml"],
        key="train_yaml",
        on_change=form.load_yaml,
        args=("train_yaml",),
    )

st.subheader("4. Start")
form.draw_named("run_name")
overridable = verdict == "red" and not checked.blocked
anyway = overridable and st.checkbox("Start anyway, even though the check says it would fail")
blocked = checked is None or bool(problems) or (verdict == "red" and not anyway)
if st.button("Start training", type="primary", icon=":material/play_arrow:", disabled=blocked):
    try:
        peak = checked.peak_memory_gb if checked else None  # lets the runner share a GPU when this fits beside others
        duration = checked.est_seconds if checked else None  # tells the others in the queue when theirs starts
        parent = st.session_state.get("train_parent", "")  # set by Train again: the results are compared with it
        job = control.submit(config, st.session_state["actor"], peak, duration, browser=True, parent=parent)
    except UserError as error:
        st.error(str(error))
    else:
        st.session_state["selected_run"], st.session_state["train_parent"] = job.run_id, ""
        st.switch_page("app_pages/runs.py")
