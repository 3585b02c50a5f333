"""The Runs page's evaluation of a finished run: the base and the trained model answer every held-out conversation
through the model server; the scores in a sentence and every answer in a table sortable by any column."""

import streamlit as st

from workbench.errors import UserError
from workbench.results import evaluate
from workbench.runs.directory import Run


def draw_evaluation(run: Run) -> None:
    if not run.has_output:
        return
    saved = evaluate.current_evaluation(run)
    title = "Evaluation: every held-out answer, scored" if saved else "Evaluate every held-out answer"
    with st.expander(title, icon=":material/fact_check:", expanded=saved is not None):
        if saved:
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
        else:
            st.caption(
                "The untrained base and the trained model answer each held-out conversation; every answer is scored "
                "(exact match, token F1, ROUGE-L, BLEU) and kept with the run."
            )
        if st.button("Evaluate again" if saved else "Evaluate now", icon=":material/play_arrow:", key="evaluate"):
            run_evaluation(run)


def run_evaluation(run: Run, checkpoint: int | None = None) -> None:
    bar = st.progress(0.0, text="Starting the model server…")
    try:
        evaluate.evaluate(
            run.run_id,
            st.session_state["actor"],
            progress=lambda done, total: bar.progress(done / total, text=f"Answered {done} of {total}"),
            checkpoint=checkpoint,
        )
    except UserError as error:
        st.error(str(error))
        return
    st.rerun()
