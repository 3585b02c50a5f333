"""Tests for workbench.results.arena_prompts: a typed prompt is answered live by the base and the trained demo
through the real model server, shown blind, and voted on like a held-out one."""

import json

import pytest
from conftest import copy_trained_run

from workbench.errors import UserError
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.results import arena, arena_prompts, evaluate
from workbench.team.identity import Actor


def test_a_typed_prompt_is_answered_live_and_its_vote_becomes_a_preference_pair(demo_home, trained_demo, tmp_path):
    copy_trained_run(trained_demo, demo_home)
    one = tmp_path / "one.jsonl"
    one.write_text(DEMO_HELDOUT_FILE.read_text().splitlines()[0] + "\n")
    evaluate.evaluate(trained_demo.run_id, data=one)
    question = "Which city is mentioned? Ines has lived in Lisbon for ten years."

    matchup = arena_prompts.typed_matchup([trained_demo.run_id], question)

    answers = dict(matchup.shown)
    assert set(answers) == {"base: demo", trained_demo.run_id}
    assert answers[trained_demo.run_id] == "Lisbon" and answers["base: demo"] != "Lisbon"
    assert matchup.prompt == [{"role": "user", "content": question}] and matchup.key.startswith("typed|")
    arena.vote(matchup, trained_demo.run_id)
    [pair] = arena.preference_pairs()
    assert pair["prompt"] == matchup.prompt and pair["chosen"][0]["content"] == "Lisbon"
    with pytest.raises(UserError, match="already voted"):
        arena.vote(matchup, arena.TIE)


def test_an_empty_a_long_or_a_foreign_prompt_is_refused_in_a_sentence(demo_home, trained_demo, tmp_path):
    copy_trained_run(trained_demo, demo_home)
    with pytest.raises(UserError, match="Type a prompt first"):
        arena_prompts.typed_matchup([trained_demo.run_id], "   ")
    with pytest.raises(UserError, match="keep it under 4000"):
        arena_prompts.typed_matchup([trained_demo.run_id], "x" * 4001)
    with pytest.raises(UserError, match="has not been evaluated yet"):
        arena_prompts.typed_matchup([trained_demo.run_id], "Which city?")
    with pytest.raises(UserError, match="that you can see"):
        arena_prompts.typed_matchup([trained_demo.run_id], "Which city?", Actor("mallory"))
    assert json.loads(json.dumps(arena.preference_pairs())) == []
