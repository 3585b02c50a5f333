"""Playground: chat with a trained run, streamed token by token from the model server, optionally side by side with
its base model."""

from typing import Any

import streamlit as st

from app_pages._feedback import draw_feedback
from app_pages._import import import_box
from workbench.chat import playground
from workbench.errors import UserError
from workbench.jobs import control
from workbench.runs import directory


st.title("Playground")
ready = [run for run in control.visible_runs(st.session_state["actor"]) if run.has_output]
if not ready:
    st.info(
        "No trained model yet. Train one (the demo takes about a minute), or import an adapter made elsewhere, "
        "then chat with it here.",
        icon=":material/chat:",
    )
    import_box(expanded=True)
    st.stop()

run_ids = [run.run_id for run in ready]
selected = st.session_state.get("selected_run")
run_id = st.selectbox("Trained run", run_ids, index=run_ids.index(selected) if selected in run_ids else 0)
with st.sidebar:
    system_prompt = st.text_area("System prompt", key="system_prompt", placeholder="You are a helpful assistant.")
    compare = st.toggle("Compare with the base model", key="compare_base")
    siblings = {other.run_id: other for other in playground.same_base(directory.get_run(run_id), ready)}
    chosen = st.multiselect(
        "Also answer with runs on the same base", list(siblings), key="compare_runs", max_selections=2
    )
    sampling = {
        "max_tokens": st.slider("Longest reply (tokens)", 8, 1024, 64, key="max_new_tokens"),
        "temperature": st.slider(
            "Temperature (0 = always the likeliest reply)", 0.0, 1.5, 0.0, 0.1, key="temperature"
        ),
    }
    with st.expander("More settings"):
        sampling["top_p"] = st.slider("Top-p (with temperature above 0)", 0.05, 1.0, 1.0, 0.05, key="top_p")
        sampling["repetition_penalty"] = st.slider("Repetition penalty", 1.0, 2.0, 1.0, 0.05, key="repetition")
        sampling["seed"] = int(st.number_input("Seed (the same in every column)", 0, 2**31 - 1, 0, key="seed"))
        if stop := st.text_input("Stop at this text", key="stop", placeholder="e.g. ###"):
            sampling["stop"] = [stop]
    if st.button("Clear chat", icon=":material/delete:"):
        st.session_state.pop(f"chat_{run_id}", None)

NOTHING = "(the model answered nothing)"
history: list[dict[str, str]] = st.session_state.setdefault(f"chat_{run_id}", [])
try:
    with st.spinner("Starting the model server…"):
        server, restarted = playground.connect()
except UserError as error:
    st.error(str(error))
    st.stop()
if restarted:
    st.info(
        "The model server had stopped and was started again; the first reply loads the model.",
        icon=":material/restart_alt:",
    )

others = [siblings[other] for other in chosen if other in siblings]
sides = {side.name: side for side in playground.sides(directory.get_run(run_id), compare, others)}


def copy_box(text: str, key: str) -> None:
    """A small button under an answer that opens it as plain text, with the code block's copy button."""
    if text:
        with st.popover("Copy", type="tertiary", icon=":material/content_copy:", key=key):
            st.code(text, language=None, wrap_lines=True)


def answer_missing(slots: dict[tuple[int, str], Any]) -> None:
    """Fill each empty answer bubble (``slots``: the user turn's index and the side) with its streamed reply, one
    request per question for every side that has not answered it, earliest question first."""
    asked = {index: history[index] for index, _ in slots}
    for index, turn in sorted(asked.items()):
        names = [name for at, name in slots if at == index]
        messages = playground.asked_messages(history, names, playground.position(history, turn), system_prompt)
        texts, failed = dict.fromkeys(names, ""), set()
        try:
            for name, piece, error in playground.stream_answers(server, messages, sides, sampling, waiting.caption):
                if error:
                    failed.add(name)
                    slots[(index, name)].error(error)
                    continue
                texts[name] += piece
                slots[(index, name)].markdown(texts[name] + " ▌")
        except UserError as error:
            failed.update(names)
            for name in names:
                slots[(index, name)].error(str(error))
        waiting.empty()
        for name in names:
            if name not in failed and texts[name].strip():
                slots[(index, name)].markdown(texts[name])
            elif name not in failed:
                slots[(index, name)].caption(NOTHING)
            playground.add_answer(history, playground.position(history, turn), name, texts[name])


prompt = st.chat_input("Ask the model something")
if prompt:
    history.append({"role": "user", "content": prompt})
waiting = st.empty()  # "Waiting for the GPU: ..." while training runs leave no room for the model
columns = dict(zip(sides, st.columns(len(sides)), strict=True))
slots: dict[tuple[int, str], Any] = {}  # an empty bubble per side and question it has not answered yet
for name, column in columns.items():
    column.caption(playground.column_title(name))
    missing = playground.unanswered(history, name)  # the new question, and any asked before "compare" was on
    for index, turn in enumerate(history):
        if turn["role"] == "user" or turn.get("model") == name:
            with column.chat_message(turn["role"]):
                st.write(turn["content"] if turn["content"].strip() else NOTHING)
                if turn["role"] == "assistant":
                    copy_box(turn["content"], f"copy_{name}_{index}")
        if index in missing:
            with column.chat_message("assistant"):
                slots[(index, name)] = st.empty()
                slots[(index, name)].caption("Thinking…")
answer_missing(slots)

draw_feedback(history, system_prompt, run_id)
import_box()
