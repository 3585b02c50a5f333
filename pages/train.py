"""Train: pick the model, data and settings, then queue the run for the background runner."""

import streamlit as st

from workbench import jobs, models, presets
from workbench.config import DEMO_DATASET, DEMO_MODEL, METHOD_LABELS, METHODS, RunConfig, field_bounds, field_help
from workbench.errors import UserError


@st.cache_resource
def detect_device() -> models.DeviceInfo:
    return models.device_info()


def number(label: str, name: str, default: float, **kwargs: object) -> float:
    low, high = field_bounds(name)
    return st.number_input(
        label, min_value=low, max_value=high, value=default, help=field_help(name), key=name, **kwargs
    )


st.title("Train")
device = detect_device()
method, reason = models.default_method(device)
defaults = presets.demo_config()
st.caption(f"Training device: {device.name}. {reason}")

uploaded = st.session_state.get("train_dataset")
with st.form("train_form"):
    model_choice = st.radio("Model", ["Built-in demo model", "Local folder or hub id"], horizontal=True)
    model_ref = st.text_input(
        "Model folder or hub id", placeholder="/models/Qwen2.5-0.5B-Instruct", help=field_help("model")
    )
    dataset_options = ["Built-in demo dataset"] + (
        [f"Uploaded: {st.session_state['train_dataset_label']}"] if uploaded else []
    )
    dataset_choice = st.radio("Dataset", dataset_options, index=len(dataset_options) - 1, horizontal=True)
    chosen_method = st.radio(
        "Method",
        METHODS,
        index=METHODS.index(method),
        format_func=METHOD_LABELS.get,
        horizontal=True,
        help=field_help("method"),
    )
    left, middle, right = st.columns(3)
    with left:
        epochs = number("Epochs", "num_train_epochs", float(defaults.num_train_epochs), step=1.0)
        learning_rate = number("Learning rate", "learning_rate", defaults.learning_rate, format="%.1e", step=1e-4)
    with middle:
        batch_size = number("Batch size", "per_device_train_batch_size", defaults.per_device_train_batch_size)
        max_length = number("Max length (tokens)", "max_length", defaults.max_length, step=64)
    with right:
        lora_r = number("LoRA rank", "lora_r", defaults.lora_r)
        lora_alpha = number("LoRA alpha", "lora_alpha", defaults.lora_alpha)
    submitted = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")

if submitted:
    use_demo_model = model_choice == "Built-in demo model"
    use_demo_data = dataset_choice.startswith("Built-in")
    base = defaults if use_demo_model and use_demo_data else RunConfig()
    values = {
        **base.to_dict(),
        "run_name": "" if not use_demo_model else base.run_name,
        "model": DEMO_MODEL if use_demo_model else model_ref.strip(),
        "dataset": DEMO_DATASET if use_demo_data else uploaded,
        "method": chosen_method,
        "num_train_epochs": epochs,
        "learning_rate": learning_rate,
        "per_device_train_batch_size": batch_size,
        "max_length": max_length,
        "lora_r": lora_r,
        "lora_alpha": lora_alpha,
    }
    try:
        job = jobs.submit(RunConfig.from_dict(values))
    except UserError as error:
        st.error(str(error))
    else:
        st.session_state["selected_run"] = job.run_id
        st.switch_page("pages/runs.py")
