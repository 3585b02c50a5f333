"""Arena: blind votes between the base and trained runs on their saved evaluation answers, the win rates, and the
votes as DPO-ready preference pairs."""

import streamlit as st

from workbench import charts
from workbench.data import feedback
from workbench.errors import UserError
from workbench.results import arena, arena_prompts


st.title("Arena")
st.caption(
    "Which answer is better, without knowing whose it is? Each prompt shows the base's and the runs' answers in an "
    "order of their own; who gave which is told after your vote."
)
actor = st.session_state["actor"]
evaluated = arena.evaluated_models(actor)
if not evaluated:
    st.info(
        "No evaluated run yet: open a finished run on the Runs page and press *Evaluate now*.", icon=":material/info:"
    )
    st.page_link("app_pages/runs.py", label="Go to the Runs page", icon=":material/monitoring:")
    st.stop()

picked = st.multiselect(
    "Runs or checkpoints in the arena (one base model)",
    evaluated,
    default=evaluated[:1],
    max_selections=3,
    key="arena_runs",
)
try:
    matchup = arena.next_matchup(picked, actor) if picked else None
except UserError as error:
    st.error(str(error))
    matchup = None
typed = st.session_state.get("arena_typed")
if typed and typed[0] == picked:  # a typed prompt's answers, for the runs picked when it was asked
    matchup = typed[1]

if revealed := st.session_state.pop("arena_revealed", None):
    st.success("Your vote is saved. " + revealed, icon=":material/visibility:")


def draw_vote(matchup: arena.Matchup) -> None:
    """The prompt, its anonymous answers side by side, the choice, an optional better answer and the Vote button."""
    answers = matchup.labelled()
    with st.container(border=True):
        st.markdown(f"**Prompt:** {matchup.question}")
        for column, (label, (_, answer)) in zip(st.columns(len(answers)), answers.items(), strict=True):
            column.markdown(f"**{label}**")
            column.write(answer or "(no answer)")
        choice = st.radio(
            "Which is best?", [*answers, "A tie"], horizontal=True, index=None, key=f"pick_{matchup.key}"
        )
        better = st.text_area("A better answer (optional): it becomes training data", key=f"better_{matchup.key}")
        if st.button("Vote", type="primary", disabled=choice is None, icon=":material/how_to_vote:"):
            try:
                arena.vote(matchup, answers[choice][0] if choice in answers else arena.TIE, actor, better)
            except UserError as error:
                st.error(str(error))
            else:
                st.session_state["arena_revealed"] = matchup.reveal()
                st.session_state.pop("arena_typed", None)
                st.rerun()


if matchup is not None:
    draw_vote(matchup)
elif picked:
    st.info("You have voted on every prompt these runs share. The standings are below.", icon=":material/done_all:")
if picked:
    with st.expander("Ask a prompt of your own", icon=":material/edit_note:"):
        prompt = st.text_area("Your prompt", key="arena_prompt", max_chars=arena_prompts.MAX_PROMPT_CHARS)
        if st.button("Ask them", icon=":material/send:", help="Each model answers now; you vote blind as above."):
            try:
                st.session_state["arena_typed"] = (picked, arena_prompts.typed_matchup(picked, prompt, actor))
            except UserError as error:
                st.error(str(error))
            else:
                st.rerun()

st.subheader("Standings")
names = arena.reviewers()
reviewer = st.selectbox("Votes of", ["everyone", *names], key="arena_reviewer") if len(names) > 1 else "everyone"
standings = arena.standings(None if reviewer == "everyone" else reviewer, actor)
if not standings:
    st.caption("No votes yet.")
else:
    rows = [(item.model, item.rate, item.low, item.high) for item in standings]
    st.plotly_chart(charts.win_rate_figure(rows), width="stretch")
    pairs = arena.preference_pairs(None if reviewer == "everyone" else reviewer, actor)
    left, right = st.columns(2)
    left.download_button(
        f"Download {len(pairs)} preference pairs (DPO JSONL)", arena.to_jsonl(pairs), "preference_pairs.jsonl"
    )
    corrected = arena.corrected_examples(actor.name)
    if corrected and right.button(f"Save my {len(corrected)} better answers as training data"):
        try:
            version = feedback.save_examples(corrected, "better answers written in the arena", actor)
        except UserError as error:
            st.error(str(error))
        else:
            st.success(f"Saved as {version.label} in the dataset library.", icon=":material/dataset:")
