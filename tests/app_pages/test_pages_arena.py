"""AppTest of the Arena page: an empty state that says what to do, a blind vote whose identities are told only
after it, the standings chart, and the votes offered as DPO pairs and as training data."""

import json

from test_pages import open_page, texts

from workbench.config import RunConfig
from workbench.runs import directory


SCORES = {"exact_match": 0.5, "f1": 0.6, "rouge_l": 0.6, "bleu": 0.2}


def evaluated_run() -> str:
    run_id = directory.create_run(RunConfig(run_name="arena"), owner="alice").run_id
    examples = [
        {"question": f"Which city? {city}.", "expected": city, "prompt": [{"role": "user", "content": f"{city}?"}]}
        | {"base": "No idea.", "tuned": city}
        for city in ("Oslo", "Rome")
    ]
    saved = {"source": "the held-out split", "n": 2, "base": SCORES, "tuned": SCORES, "examples": examples}
    (directory.run_dir(run_id) / "evaluation.json").write_text(json.dumps(saved))
    return run_id


def test_the_arena_says_how_to_begin_when_nothing_is_evaluated(home):
    assert "No evaluated run yet" in texts(open_page("app_pages/arena.py"))


def test_a_blind_vote_reveals_the_answers_owners_only_afterwards(home):
    run_id = evaluated_run()
    app = open_page("app_pages/arena.py")
    page = texts(app)
    assert "Answer A" in page and "Answer B" in page and run_id not in page, "no identity before the vote"
    picked = next(index for index, markdown in enumerate(app.markdown) if markdown.value == "**Answer A**")
    said_by_a = app.markdown[picked + 1].value  # the answer under the label
    app.radio[0].set_value("Answer A").run()
    app.text_area[0].set_value("Oslo, in Norway.").run()
    next(button for button in app.button if button.label == "Vote").click().run()
    assert not app.exception, app.exception
    revealed = next(element.value for element in app.success if "Your vote is saved" in element.value)
    owner = run_id if said_by_a in ("Oslo", "Rome") else "base: demo"
    assert f"Answer A was {owner}" in revealed and 'On "Which city? ' in revealed
    assert app.get("plotly_chart"), "the standings chart"
    labels = [button.label for button in app.get("download_button")]
    assert labels == ["Download 2 preference pairs (DPO JSONL)"], "the better answer over both shown answers"
    save = next(button for button in app.button if button.label.startswith("Save my 1 better answers"))
    save.click().run()
    assert "Saved as" in texts(app)


def test_a_typed_prompt_is_answered_by_the_models_and_voted_on_blind(demo_home, trained_demo, tmp_path):
    from conftest import copy_trained_run

    from workbench.models.demo_task import DEMO_HELDOUT_FILE
    from workbench.results import arena, evaluate

    copy_trained_run(trained_demo, demo_home)
    one = tmp_path / "one.jsonl"
    one.write_text(DEMO_HELDOUT_FILE.read_text().splitlines()[0] + "\n")
    evaluate.evaluate(trained_demo.run_id, data=one)
    app = open_page("app_pages/arena.py")
    app.radio[0].set_value(app.radio[0].options[0]).run()
    next(button for button in app.button if button.label == "Vote").click().run()  # the one held-out prompt
    assert "You have voted on every prompt" in texts(app)
    app.text_area(key="arena_prompt").set_value("Which city is mentioned? Ines lives in Lisbon.").run()
    next(button for button in app.button if button.label == "Ask them").click().run(timeout=120)
    assert not app.exception, app.exception
    page = texts(app)
    assert "Ines lives in Lisbon" in page and trained_demo.run_id not in page.split("Standings")[0]
    app.radio[0].set_value("A tie").run()
    next(button for button in app.button if button.label == "Vote").click().run()
    assert "Your vote is saved" in texts(app) and len(arena.standings()) == 2
    assert [vote.votes for vote in arena.standings()] == [2, 2]
