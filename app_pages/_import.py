"""The Playground's "Import an adapter" box: a LoRA adapter zip made elsewhere becomes a run to chat with."""

import streamlit as st

from workbench.config import DEMO_MODEL
from workbench.errors import UserError
from workbench.results import adapter_import


def import_box(expanded: bool = False) -> None:
    with st.expander("Import an adapter made elsewhere", icon=":material/upload:", expanded=expanded):
        st.caption(
            "A zip of the folder peft's save_pretrained wrote (adapter_config.json, adapter_model.safetensors, "
            "tokenizer files). Pickles and other files are refused."
        )
        with st.form("import_adapter", clear_on_submit=True, border=False):
            upload = st.file_uploader("Adapter zip", type=["zip"], key="adapter_zip")
            base = st.text_input("Base model it was trained on", value=DEMO_MODEL, help="demo, or a model folder")
            name = st.text_input("Name", placeholder="e.g. support-bot from the cluster")
            if st.form_submit_button("Import", type="primary"):
                _import(upload, base, name)


def _import(upload, base: str, name: str) -> None:
    if upload is None:
        st.error("Choose the adapter's .zip file first.")
        return
    try:
        with st.spinner("Checking the archive and the base model…"):
            run = adapter_import.import_adapter(upload.getvalue(), base, name, st.session_state["actor"])
    except UserError as error:
        st.error(str(error))
        return
    st.session_state["selected_run"] = run.run_id
    st.toast(f"Imported as {run.run_id}; it is selected in the Playground.", icon=":material/check:")
    st.rerun()
