"""The Runs page's "answers during training": the same held-out questions answered at each evaluation, on a slider."""

import streamlit as st

from workbench.results import answer_tables
from workbench.runs import samples
from workbench.runs.directory import Run, read_status


def draw_samples(run: Run) -> None:
    """An expander with a step slider and the answers given at that step; nothing when the run has none."""
    questions, records = samples.read_samples(run.path)
    answers = samples.by_step(records)
    if not answers:
        return
    steps = list(answers)
    with st.expander(f"Answers during training ({len(questions)} held-out questions)", icon=":material/timeline:"):
        saved = samples.saved_step(run.path)
        default = saved if saved in answers else steps[-1]
        step = steps[0]
        if len(steps) > 1:
            step = st.select_slider("Step", options=steps, **follow_latest(f"samples_step_{run.run_id}", default))
        caption = "before training" if step == 0 else f"at step {step}"
        kept = _kept(run, saved) if saved in answers else ""
        st.caption(f"Answers {caption}; step 0 is the untrained model.{kept}")
        st.dataframe(answer_tables.answers_at(questions, answers[step]), hide_index=True, width="stretch")


def _kept(run: Run, saved: int) -> str:
    """Which weights the run kept, said only where it matters: early stopping ended it, or an earlier step was best."""
    status = read_status(run.path)
    if status.max_steps and status.step < status.max_steps:
        return f" Early stopping ended the run and kept the weights of step {saved}, its best on held-out data."
    return f" The run kept the weights of step {saved}, its best on held-out data." if saved != status.step else ""


def follow_latest(key: str, latest: int) -> dict[str, str]:
    """Keep the slider on the newest step while it shows the newest step (a live run adds steps); once the user
    moves it back, leave it where they put it."""
    seen = f"{key}_latest"
    if st.session_state.get(key) in (None, st.session_state.get(seen)):
        st.session_state[key] = latest
    st.session_state[seen] = latest
    return {"key": key}
