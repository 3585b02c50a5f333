"""The Playground's feedback box: keep or correct the trained model's last answer and collect it as training data."""

import streamlit as st

from workbench.data import feedback, library
from workbench.errors import UserError


PENDING = "feedback_examples"


def draw_feedback(history: list[dict[str, str]], system_prompt: str, run_id: str) -> None:
    """An expander to add the current exchange as an example, download the collected ones, or save them."""
    pending: list[dict] = st.session_state.setdefault(PENDING, [])
    last = next((turn for turn in reversed(history) if turn.get("model") == "tuned"), None)
    if last is None and not pending:
        return
    with st.expander(f"Turn answers into training data ({len(pending)} collected)", icon=":material/thumb_up:"):
        if last is not None:
            answer = st.text_area(
                "The answer the model should give (correct it if the reply was wrong)",
                value=last["content"],
                key=f"feedback_answer_{run_id}_{len(history)}",
            )
            if st.button("Add this example", icon=":material/add:"):
                try:
                    pending.append(feedback.example_from_chat(history, "tuned", system_prompt, answer))
                except UserError as error:
                    st.error(str(error))
                else:
                    st.rerun()
        if pending:
            draw_pending(pending, run_id)


def draw_pending(pending: list[dict], run_id: str) -> None:
    left, right = st.columns(2)
    left.download_button(
        "Download the examples (.jsonl)",
        library.rows_to_jsonl(pending),
        file_name="playground-feedback.jsonl",
        mime="application/jsonl",
        icon=":material/download:",
    )
    if right.button("Save them as a dataset version", type="primary", icon=":material/save:"):
        note = f"Added {len(pending)} examples from the Playground (run {run_id})"
        try:
            version = feedback.save_examples(pending, note, actor=st.session_state["actor"])
        except UserError as error:
            st.error(str(error))
        else:
            pending.clear()
            st.success(f"Saved {version.label} with {version.rows} examples; pick it on the Train page.")
