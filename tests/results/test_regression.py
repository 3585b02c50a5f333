"""Tests for workbench.results.regression: a run started from another run's settings says what changed and which
metrics got better or worse."""

import json
import shutil

from workbench.config import RunConfig
from workbench.jobs import control
from workbench.results.regression import against_parent
from workbench.runs import directory


def scored(run_id: str, **tuned: float) -> None:
    values = {"exact_match": 0.5, "n": 20, **tuned}
    (directory.run_dir(run_id) / "eval.json").write_text(json.dumps({"base": None, "tuned": values}))


def test_a_child_run_says_what_changed_and_what_got_better_or_worse(home):
    parent = control.submit(RunConfig(run_name="first", learning_rate=0.005)).run_id
    child = control.submit(RunConfig(run_name="second", learning_rate=0.001), parent=parent).run_id
    assert directory.read_status(directory.run_dir(child)).parent == parent
    scored(parent, exact_match=0.80, f1=0.90, rouge_l=0.85)
    scored(child, exact_match=0.95, f1=0.88, rouge_l=0.851)
    assert against_parent(directory.get_run(child)) == (
        f"Against its parent {parent} (changed: Learning rate 0.005 -> 0.001): better on Exact match 80% -> 95%; "
        "worse on Token F1 90% -> 88%; the same on ROUGE-L 85% -> 85%."
    )
    assert against_parent(directory.get_run(parent)) is None, "a run started afresh has no parent"


def test_no_sentence_without_scores_and_a_plain_one_when_the_parent_is_gone(home):
    parent = control.submit(RunConfig(run_name="first")).run_id
    child = control.submit(RunConfig(run_name="again"), parent=parent).run_id
    assert against_parent(directory.get_run(child)) is None, "nothing to compare before both are scored"
    scored(child)
    scored(parent)
    assert "(no setting changed): the same on Exact match 50% -> 50%." in against_parent(directory.get_run(child))
    shutil.rmtree(directory.run_dir(parent))  # deleted (the Disk panel's "Delete the whole run")
    assert against_parent(directory.get_run(child)) == (
        f"The run it was started from ({parent}) has been deleted, so there is nothing to compare with."
    )
