"""Playground: chat with a trained run, streamed token by token from the model server, optionally side by side with
its base model."""

import streamlit as st

from app_pages._feedback import draw_feedback
from workbench.chat import playground
from workbench.errors import UserError
from workbench.runs import directory


st.title("Playground")
ready = [run for run in directory.list_runs() if run.has_output]
if not ready:
    st.info(
        "No trained model yet. Train one (the demo takes about a minute), then chat with it here.",
        icon=":material/chat:",
    )
    st.stop()

run_ids = [run.run_id for run in ready]
selected = st.session_state.get("selected_run")
run_id = st.selectbox("Trained run", run_ids, index=run_ids.index(selected) if selected in run_ids else 0)
with st.sidebar:
    system_prompt = st.text_area("System prompt", key="system_prompt", placeholder="You are a helpful assistant.")
    compare = st.toggle("Compare with the base model", key="compare_base")
    max_new_tokens = st.slider("Longest reply (tokens)", 8, 1024, 64, key="max_new_tokens")
    temperature = st.slider("Temperature (0 = always the likeliest reply)", 0.0, 1.5, 0.0, 0.1, key="temperature")
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

sides = {side.name: side for side in playground.sides(directory.get_run(run_id), compare)}
columns = dict(zip(sides, st.columns(len(sides)), strict=True))
for name, column in columns.items():
    column.caption("Trained model" if name == "tuned" else "Base model, without training")
    for turn in history:
        if turn["role"] == "user" or turn.get("model") == name:
            column.chat_message(turn["role"]).write(turn["content"] or NOTHING)

if prompt := st.chat_input("Ask the model something"):
    history.append({"role": "user", "content": prompt})
    for name, column in columns.items():
        column.chat_message("user").write(prompt)
        conversation = [turn for turn in history if turn["role"] == "user" or turn.get("model") == name]
        messages = playground.build_messages(conversation, system_prompt)
        with column.chat_message("assistant"):
            try:
                pieces = playground.stream_reply(server, sides[name], messages, max_new_tokens, temperature)
                reply = st.write_stream(pieces)
            except UserError as error:
                reply = ""
                st.error(str(error))
            if not (isinstance(reply, str) and reply.strip()):
                st.caption(NOTHING)
        history.append({"role": "assistant", "content": reply if isinstance(reply, str) else "", "model": name})

draw_feedback(history, system_prompt, run_id)
