"""The Runs page's evaluation of a finished run: the base and the trained model answer every held-out conversation
(or those of a saved dataset) through the model server; the scores in a sentence, every answer in a table sortable
by any column, and one answer at a time against the reference, word by word."""

from pathlib import Path

import streamlit as st

from app_pages._background import follow, keep_open
from workbench.data import library
from workbench.errors import UserError
from workbench.results import answer_tables, background, evaluate, evaluation_tasks
from workbench.runs.directory import Run


HELD_OUT = "the run's held-out split"


def draw_evaluation(run: Run) -> None:
    if not run.has_output:
        return
    saved = evaluate.current_evaluation(run)
    task = background.read_state(evaluation_tasks.evaluation_task(run))
    title = f"Evaluation of {saved.model}: every answer, scored" if saved else "Evaluate every held-out answer"
    opened = keep_open(evaluation_tasks.evaluation_task(run), task)
    with st.expander(title, icon=":material/fact_check:", expanded=saved is not None or opened):
        if task.running:
            follow(evaluation_tasks.evaluation_task(run), _progress_label(task))
        elif task.state == "failed":
            st.error(task.message, icon=":material/error:")
        if saved:
            _draw_saved(saved)
        else:
            st.caption(
                "The untrained base and the trained model answer each held-out conversation; every answer is scored "
                "(exact match, token F1, ROUGE-L, BLEU, the reference's loss, whether it stops) and kept with the run."
            )
        files = {HELD_OUT: None} | {
            f"the dataset {versions[-1].label}": versions[-1].path
            for versions in library.visible_datasets(st.session_state["actor"])
        }
        source = st.selectbox(
            "Evaluate on",
            list(files),
            key="evaluate_on",
            help="The held-out split, or a dataset saved in the library (Data page, Clean and save) whose "
            "conversations end with the expected answer.",
        )
        label = "Evaluate again" if saved else "Evaluate now"
        if st.button(label, icon=":material/play_arrow:", key="evaluate", disabled=task.running):
            start_evaluation(run, data=files[source])


def _progress_label(task: background.TaskState) -> str:
    checkpoint = task.recorded.get("checkpoint")
    return f"Evaluating checkpoint {checkpoint}" if isinstance(checkpoint, int) else "Evaluating"


def _draw_saved(saved: evaluate.Evaluation) -> None:
    st.write(evaluate.summary(saved))
    st.dataframe(
        evaluate.example_rows(saved),
        hide_index=True,
        width="stretch",
        column_config={
            name: st.column_config.ProgressColumn(name, min_value=0.0, max_value=1.0, format="percent")
            for name in ("trained F1", "trained ROUGE-L", "untrained F1")
        },
    )
    st.caption(f"Answered through the model server in {saved.seconds:.0f} s; click a column to sort by it.")
    _draw_one_answer(saved)


def _draw_one_answer(saved: evaluate.Evaluation) -> None:
    """One answer against its reference, worst trained answers first."""
    ranked = sorted(range(len(saved.examples)), key=lambda index: saved.examples[index]["tuned_f1"])
    if not ranked:
        return
    index = st.selectbox(
        "Look at one answer (worst first)",
        ranked,
        format_func=lambda i: f"F1 {saved.examples[i]['tuned_f1']:.0%}: {saved.examples[i]['question'][:80]}",
        key="evaluation_example",
    )
    row = saved.examples[index]
    st.markdown(f"**Question:** {row['question']}")
    for name, label in (("tuned", "Trained"), ("base", "Untrained")):
        st.markdown(f"**{label} answer** against the expected one (struck: missing, green: added)")
        st.html(answer_tables.diff_html(answer_tables.word_diff(row[name], row["expected"])))


def start_evaluation(run: Run, checkpoint: int | None = None, data: Path | None = None) -> None:
    try:
        evaluation_tasks.start_evaluation(run, st.session_state["actor"], data, checkpoint)
    except UserError as error:
        st.error(str(error))
        return
    st.rerun()
