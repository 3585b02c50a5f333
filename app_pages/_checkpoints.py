"""The Runs page's checkpoints: each saved checkpoint with its losses and scores, a timeline of the scores over
the loss curve against the untrained baseline, evaluating one, and promoting one to be the run's model."""

from collections.abc import Callable

import streamlit as st

from app_pages._evaluation import start_evaluation
from workbench import charts
from workbench.errors import UserError
from workbench.results import evaluate, promotion
from workbench.runs import checkpoints, directory
from workbench.runs.directory import Run


def draw_checkpoints(run: Run) -> None:
    if not run.has_output:
        return
    saved = promotion.saved_models(run)
    promoted = checkpoints.promoted_step(run.path)
    with st.expander(
        "Checkpoints: evaluate one, or promote it", icon=":material/history:", expanded=promoted is not None
    ):
        if sentence := promotion.promoted_sentence(run):
            st.info(sentence, icon=":material/verified:")
            if st.button("Answer with the final model again", icon=":material/undo:", key="restore_final"):
                _act(promotion.restore_final, run.run_id)
        if not saved:
            st.caption("This run kept no checkpoints (they are deleted to free disk, or it saved none).")
            return
        scores, metrics = evaluate.checkpoint_evaluations(run), directory.read_metrics(run.path)
        final = evaluate.read_evaluation(run)
        baseline = final or next(iter(scores.values()), None)
        timeline = {step: found.tuned["f1"] for step, found in scores.items()}
        if final and metrics:  # the final model is the last point of the timeline
            timeline.setdefault(max(record["step"] for record in metrics), final.tuned["f1"])
        st.plotly_chart(
            charts.checkpoint_figure(metrics, timeline, baseline.base["f1"] if baseline else None, promoted),
            width="stretch",
        )
        percent = {name: st.column_config.NumberColumn(name, format="percent") for name in ("token F1", "exact match")}
        st.dataframe(_rows(saved, scores), hide_index=True, width="stretch", column_config=percent)
        _draw_actions(run, saved, promoted)


def _rows(saved: list[promotion.SavedModel], scores: dict[int, evaluate.Evaluation]) -> list[dict]:
    return [
        {
            "checkpoint": checkpoint.step,
            "epoch": checkpoint.epoch,
            "training loss": checkpoint.train_loss,
            "held-out loss": checkpoint.eval_loss,
            "token F1": scores[checkpoint.step].tuned["f1"] if checkpoint.step in scores else None,
            "exact match": scores[checkpoint.step].tuned["exact_match"] if checkpoint.step in scores else None,
            "answers now": checkpoint.promoted,
        }
        for checkpoint in saved
    ]


def _draw_actions(run: Run, saved: list[promotion.SavedModel], promoted: int | None) -> None:
    by_loss = [checkpoint for checkpoint in saved if checkpoint.eval_loss is not None]
    best = min(by_loss, key=lambda checkpoint: checkpoint.eval_loss) if by_loss else saved[-1]
    steps = [checkpoint.step for checkpoint in saved]
    step = st.selectbox(
        "Checkpoint", steps, index=steps.index(best.step), format_func=lambda step: f"checkpoint {step}", key="ckpt"
    )
    st.caption(f"Checkpoint {best.step} has the lowest held-out loss." if by_loss else "")
    left, right = st.columns(2)
    if left.button(f"Evaluate checkpoint {step}", icon=":material/fact_check:", key="evaluate_checkpoint"):
        start_evaluation(run, step)
    if right.button(
        f"Promote checkpoint {step}",
        icon=":material/upgrade:",
        key="promote",
        disabled=step == promoted,
        help="Chat, the API, the download and the merge then use this checkpoint; the final model is kept.",
    ):
        _act(promotion.promote, run.run_id, step)


def _act(action: Callable[..., None], *args: object) -> None:
    try:
        action(*args, st.session_state["actor"])
    except UserError as error:
        st.error(str(error))
        return
    st.rerun()
