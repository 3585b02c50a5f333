"""The Runs page's optional judge of an evaluated run: a local model (a base model or a finished run) scores the
trained and the untrained answers against a rubric the user writes; shown as a model's opinion, with the judge's raw
output beside each score and its prompt one click away."""

import streamlit as st

from app_pages._background import follow, keep_open
from workbench.errors import UserError
from workbench.results import background, evaluate, evaluation_tasks, judge
from workbench.runs.directory import Run
from workbench.serving import catalogue


OPINION = (
    "These scores are a model's opinion, not a measurement: a judge model can be wrong, lenient or fooled, so read "
    "what it wrote before trusting a score."
)


def draw_judge(run: Run) -> None:
    evaluation = evaluate.current_evaluation(run)
    if evaluation is None:
        return
    saved = judge.read_judgement(run)
    title = "Judge: a model's opinion of the answers" if saved else "Judge the answers with a model (optional)"
    task = background.read_state(evaluation_tasks.judgement_task(run))
    with st.expander(title, icon=":material/gavel:", expanded=keep_open(evaluation_tasks.judgement_task(run), task)):
        if task.running:
            follow(evaluation_tasks.judgement_task(run), "Judging")
        elif task.state == "failed":
            st.error(task.message, icon=":material/error:")
        if saved:
            draw_saved(saved, current=judge.matches(saved, evaluation))
        else:
            st.caption(
                "A model you choose reads each question, its reference answer and one answer at a time, and scores "
                f"it from 1 to 10 against your rubric. {OPINION}"
            )
        draw_form(run, saved, busy=task.running)


def draw_saved(saved: judge.Judgement, current: bool) -> None:
    st.info(judge.summary(saved), icon=":material/psychology:")
    st.caption(OPINION)
    if not current:
        st.warning("The run was evaluated again after this judgement; judge again to score the new answers.")
    st.dataframe(
        judge.example_rows(saved),
        hide_index=True,
        width="stretch",
        column_config={
            name: st.column_config.NumberColumn(name, help="1 (worst) to 10 (best); blank: the output held no score")
            for name in ("trained score", "untrained score")
        },
    )
    questions = [f"{number}. {row['question'][:80]}" for number, row in enumerate(saved.examples, start=1)]
    shown = st.selectbox("See the judge's prompt for", questions, key="judge_prompt_for")
    row = saved.examples[questions.index(shown)] if shown in questions else None
    if row is not None:
        for side, label in judge.SIDES.items():
            st.caption(f"The judge's prompt for the {label} answer, then what it wrote:")
            st.code(prompt_text(row[side]["prompt"]) + f"\n\n--- judge ---\n{row[side]['output']}", language=None)
    st.caption(f"Judged by {saved.judge} in {saved.seconds:.0f} s; a blank score means its output held no score.")


def draw_form(run: Run, saved: judge.Judgement | None, busy: bool) -> None:
    models = judge_models()
    default = models.index(saved.judge) if saved and saved.judge in models else 0
    model = st.selectbox("Judge model", models, index=default, key="judge_model")
    rubric = st.text_area(
        "Rubric: what a good answer does",
        value=saved.rubric if saved else judge.DEFAULT_RUBRIC,
        max_chars=judge.MAX_RUBRIC_CHARS,
        height=140,
        key="judge_rubric",
    )
    label = "Judge the answers again" if saved else "Judge the answers"
    if st.button(label, icon=":material/gavel:", key="judge_run", disabled=busy):
        start_judgement(run, model, rubric)


def judge_models() -> list[str]:
    """The models the signed-in user may judge with: the base models first, then their finished runs."""
    return [served.id for served in catalogue.served_models(st.session_state["actor"])]


def start_judgement(run: Run, model: str, rubric: str) -> None:
    try:
        evaluation_tasks.start_judgement(run, st.session_state["actor"], model, rubric)
    except UserError as error:
        st.error(str(error))
        return
    st.rerun()


def prompt_text(prompt: list[dict]) -> str:
    return "\n\n".join(f"[{turn.get('role', '')}]\n{turn.get('content', '')}" for turn in prompt)
