"""Tests for workbench.results.arena: anonymised answers shuffled per prompt and reviewer, each vote kept once, win
rates with Wilson intervals, and preference pairs that TRL's DPOTrainer reads."""

import json

import pytest
from datasets import load_dataset
from trl.data_utils import is_conversational

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.results import arena
from workbench.runs import directory
from workbench.team.identity import Actor


QUESTIONS = {
    "Which city? Ana lives in Oslo.": "Oslo",
    "Which city? Bo moved to Rome.": "Rome",
    "Which city? Cy.": "Lima",
}
SCORES = {"exact_match": 0.5, "f1": 0.6, "rouge_l": 0.6, "bleu": 0.2}
ALICE, BOB, ADA = Actor("alice"), Actor("bob"), Actor("ada", "admin")


def evaluated_run(name: str, tuned: dict[str, str], model: str = "demo", owner: Actor = ALICE) -> str:
    """A run with a saved evaluation whose trained model gave ``tuned`` answers (question -> answer)."""
    run_id = directory.create_run(RunConfig(run_name=name, model=model), owner=owner.name).run_id
    examples = [
        {
            "question": question,
            "expected": expected,
            "prompt": [{"role": "user", "content": question}],
            "base": "I do not know.",
            "tuned": tuned[question],
        }
        for question, expected in QUESTIONS.items()
    ]
    saved = {"source": "the held-out split", "n": 3, "base": SCORES, "tuned": SCORES, "examples": examples}
    (directory.run_dir(run_id) / "evaluation.json").write_text(json.dumps(saved))
    return run_id


def test_answers_are_anonymous_shuffled_per_reviewer_and_each_vote_is_kept_once(home):
    first = evaluated_run("first", dict(QUESTIONS))
    second = evaluated_run("second", dict.fromkeys(QUESTIONS, "Paris"))
    shown = {reviewer.name: arena.matchups([first, second], reviewer) for reviewer in (ALICE, ADA)}
    assert len(shown["alice"]) == 3 and all(len(matchup.shown) == 3 for matchup in shown["alice"])
    assert {model for model, _ in shown["alice"][0].shown} == {"base: demo", first, second}

    def orders(reviewer: Actor) -> list[list[str]]:
        return [[model for model, _ in matchup.shown] for matchup in arena.matchups([first, second], reviewer)]

    assert orders(ALICE) == orders(ALICE), "a reviewer sees the same order every time"
    # Another reviewer has the same order on all three prompts by chance (1 in 216), so ask eight admins.
    others = [orders(Actor(f"reviewer{number}", "admin")) for number in range(8)]
    assert any(order != orders(ALICE) for order in others), "each reviewer sees their own order"
    matchup = arena.next_matchup([first, second], ALICE)
    arena.vote(matchup, first, ALICE)
    with pytest.raises(UserError, match="already voted on this prompt"):
        arena.vote(matchup, second, ALICE)
    with pytest.raises(UserError, match="Pick one of the answers shown"):
        arena.vote(matchup, "someone else", ALICE)
    assert arena.next_matchup([first, second], ALICE).key != matchup.key
    assert arena.next_matchup([first, second], ADA).key == matchup.key, "ada has not voted yet"


def test_win_rates_have_wilson_intervals_and_votes_become_dpo_pairs(home, tmp_path, monkeypatch):
    tuned = evaluated_run("tuned", dict(QUESTIONS))
    matchups = arena.matchups([tuned], ALICE)
    arena.vote(matchups[0], tuned, ALICE)
    arena.vote(matchups[1], tuned, ALICE)
    arena.vote(matchups[2], arena.TIE, ALICE, better="Lima, the capital of Peru.")
    [best, base] = arena.standings()
    assert (best.model, best.votes, best.wins, best.ties, best.rate) == (tuned, 3, 2, 1, pytest.approx(2.5 / 3))
    assert (base.wins, base.rate) == (0, pytest.approx(0.5 / 3))
    assert arena.wilson(1.0, 3) == pytest.approx((0.4385, 1.0), abs=1e-4), "the textbook 3 out of 3"
    assert arena.wilson(0.0, 0) == (0.0, 1.0)
    pairs = arena.preference_pairs()
    assert len(pairs) == 2 + 2, "two chosen-over-base pairs, and the written answer over both shown answers"
    assert all(is_conversational(pair) for pair in pairs)
    assert pairs[0]["chosen"][0]["content"] == "Oslo" and pairs[0]["rejected"][0]["content"] == "I do not know."
    path = tmp_path / "pairs.jsonl"
    path.write_text(arena.to_jsonl(pairs))
    loaded = load_dataset("json", data_files=str(path), split="train")
    assert loaded.column_names == ["prompt", "chosen", "rejected"] and len(loaded) == 4
    [corrected] = arena.corrected_examples("alice")
    assert corrected["messages"][-1] == {"role": "assistant", "content": "Lima, the capital of Peru."}
    assert arena.standings(reviewer="bob") == [] and arena.reviewers() == ["alice"]
    monkeypatch.setenv("WORKBENCH_MODE", "team")
    assert arena.standings(actor=BOB) == [] and arena.preference_pairs(actor=BOB) == [], "bob may not see the run"
    assert len(arena.standings(actor=ALICE)) == 2


def test_what_cannot_enter_the_arena_is_refused_in_a_sentence(home, monkeypatch):
    evaluated = evaluated_run("evaluated", dict(QUESTIONS))
    plain = directory.create_run(RunConfig(run_name="never-evaluated"), owner="alice").run_id
    other_base = evaluated_run("other-base", dict(QUESTIONS), model="/models/other")
    with pytest.raises(UserError, match="has not been evaluated yet"):
        arena.matchups([evaluated, plain], ALICE)
    with pytest.raises(UserError, match="another base model"):
        arena.matchups([evaluated, other_base], ALICE)
    with pytest.raises(UserError, match="Pick one to 3 evaluated runs"):
        arena.matchups([], ALICE)
    monkeypatch.setenv("WORKBENCH_MODE", "team")
    with pytest.raises(UserError, match="that you can see"):
        arena.matchups([evaluated], BOB)


def test_a_checkpoint_with_a_saved_evaluation_enters_the_arena_beside_its_run(home):
    run_id = evaluated_run("steps", dict(QUESTIONS))
    early = json.loads((directory.run_dir(run_id) / "evaluation.json").read_text())
    early["checkpoint"] = 40
    early["examples"] = [{**row, "tuned": "Rome"} for row in early["examples"]]
    (directory.run_dir(run_id) / "evaluations").mkdir()
    (directory.run_dir(run_id) / "evaluations" / "checkpoint-40.json").write_text(json.dumps(early))
    checkpoint = f"{run_id}@checkpoint-40"
    assert arena.evaluated_models(ALICE) == [run_id, checkpoint]
    [first, *_] = arena.matchups([run_id, checkpoint], ALICE)
    assert dict(first.shown)[checkpoint] == "Rome" and dict(first.shown)[run_id] != "Rome"
    arena.vote(first, checkpoint, ALICE)
    assert arena.standings(actor=ALICE)[0].model == checkpoint
    assert arena.standings(actor=Actor("mallory")) == [], "someone who cannot see the run sees none of its votes"
