"""Across the boundary between users, through the core functions the pages, the CLI and the API call: a member
tries every read, download, chat, merge, cancel, resume, delete and share on a colleague's trained run, before and
after it is shared; each refusal is one plain sentence, and an admin may do all of it."""

import pytest
from conftest import copy_trained_run

from workbench.errors import UserError
from workbench.jobs import control, queue
from workbench.results import cleanup, export, merge
from workbench.runs import directory
from workbench.serving import catalogue
from workbench.team import audit
from workbench.team.identity import Actor


ADA, ALICE, BOB = Actor("ada", "admin"), Actor("alice"), Actor("bob")


@pytest.fixture
def alices_run(team_home, trained_demo):
    run_id = copy_trained_run(trained_demo, team_home, with_checkpoints=True).name
    directory.update_status(directory.run_dir(run_id), owner="alice")
    queue.insert(run_id, "alice", None)
    queue.claim(queue.get_job(run_id).id)
    queue.mark_finished(run_id, "cancelled")  # ended, with checkpoints: resumable
    return directory.get_run(run_id)


def test_a_private_run_is_invisible_to_a_colleague_whatever_they_try(alices_run):
    run_id = alices_run.run_id
    assert run_id not in [run.run_id for run in control.visible_runs(BOB)]
    assert run_id not in [job.run_id for job in control.visible_jobs(BOB)]
    assert run_id not in [served.id for served in catalogue.served_models(BOB)]
    attempts = {
        "download": lambda: export.adapter_zip_bytes(alices_run, BOB),
        "chat": lambda: catalogue.find(run_id, BOB),
        "merge": lambda: merge.start_merge(alices_run, BOB),
        "cancel": lambda: control.request_cancel(run_id, BOB),
        "resume": lambda: control.resume(run_id, BOB),
        "delete": lambda: cleanup.delete_run(alices_run, BOB),
        "delete checkpoints": lambda: cleanup.delete_checkpoints(alices_run, BOB),
        "share": lambda: control.share(run_id, BOB),
    }
    for action, attempt in attempts.items():
        with pytest.raises(UserError) as refused:
            attempt()
        sentence = str(refused.value)
        assert "alice" not in sentence and sentence.endswith("."), (action, sentence)
        assert "that you can see" in sentence or "GET /v1/models lists" in sentence, (action, sentence)
    assert alices_run.path.is_dir() and queue.get_job(run_id).state == "cancelled", "nothing happened"


def test_a_shared_run_can_be_used_but_not_managed_by_a_colleague_and_an_admin_manages_it(alices_run):
    run_id = alices_run.run_id
    control.share(run_id, ALICE)
    assert run_id in [run.run_id for run in control.visible_runs(BOB)]
    assert export.adapter_zip_bytes(alices_run, BOB)[:2] == b"PK"
    assert catalogue.find(run_id, BOB).run.run_id == run_id
    for action, attempt in {
        "resume": lambda: control.resume(run_id, BOB),
        "delete": lambda: cleanup.delete_run(alices_run, BOB),
        "share": lambda: control.share(run_id, BOB, shared=False),
    }.items():
        with pytest.raises(UserError, match=f"made by alice; only they or an admin can {action}"):
            attempt()
    assert control.resume(run_id, ADA).state == "queued"
    control.request_cancel(run_id, ADA)
    cleanup.delete_checkpoints(alices_run, ADA)
    cleanup.delete_run(alices_run, ADA)
    assert not alices_run.path.exists()
    done = [(event.user, event.action) for event in audit.events()]
    for expected in [("alice", "share"), ("ada", "resume"), ("ada", "cancel"), ("ada", "delete")]:
        assert expected in done
