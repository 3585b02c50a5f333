"""Tests for workbench.results.promotion and checkpoint evaluation: a run's checkpoints are results to evaluate and
promote; a promoted checkpoint is what the model server (so the Playground and the API) and the download then use,
the final model is kept and comes back; a checkpoint's evaluation is kept apart from the final model's."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from checkpoint_files import untrained_checkpoint
from conftest import copy_trained_run

from workbench.errors import UserError
from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.results import evaluate, export, merge, promotion
from workbench.runs import checkpoints, directory
from workbench.serving import catalogue, client, process
from workbench.team.identity import Actor


ROOT = Path(__file__).resolve().parents[2]


def workbench(home: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "workbench.cli", *args]
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)


@pytest.fixture
def run_with_checkpoints(demo_home, trained_demo):
    copy_trained_run(trained_demo, demo_home, with_checkpoints=True)
    return directory.get_run(trained_demo.run_id)


def answer(model: str) -> str:
    question = json.loads(DEMO_HELDOUT_FILE.read_text().splitlines()[0])["messages"][:-1]
    pieces = client.stream_chat(process.ensure_server(), model, question, max_tokens=24, temperature=0.0, seed=0)
    return "".join(pieces).strip()


def test_the_checkpoints_are_listed_with_the_losses_logged_at_their_step(run_with_checkpoints):
    listed = promotion.saved_models(run_with_checkpoints)
    assert [saved.step for saved in listed] == [128, 160], "the last two, each on an evaluation step"
    assert all(saved.eval_loss is not None and saved.eval_loss > 0 for saved in listed)
    assert listed[0].eval_loss > listed[1].eval_loss, "the held-out loss still fell between the two checkpoints"
    assert not any(saved.promoted for saved in listed)


def test_a_promoted_checkpoint_is_what_the_server_and_the_download_answer_with(run_with_checkpoints):
    run = run_with_checkpoints
    final_weights = (run.adapter_dir / "adapter_model.safetensors").read_bytes()
    final_answer, base_answer = answer(run.run_id), answer(run.config.model)
    assert final_answer != base_answer, "the trained demo answers differently from its base"
    step = untrained_checkpoint(run.path, run.run_id)

    promotion.promote(run.run_id, step)

    assert checkpoints.promoted_step(run.path) == step
    assert answer(run.run_id) == base_answer, "the Playground's model (the run's id) answers as the checkpoint"
    assert answer(f"{run.run_id}@checkpoint-{step}") == base_answer
    zipped = zipfile.ZipFile(io.BytesIO(export.adapter_zip_bytes(run)))
    promoted_weights = zipped.read(f"{run.run_id}/adapter_model.safetensors")
    assert promoted_weights == (run.path / "checkpoints/checkpoint-0/adapter_model.safetensors").read_bytes()
    assert not any(name.endswith((".pt", ".pth", ".bin")) for name in zipped.namelist())
    assert "checkpoint saved at step 0, promoted" in zipped.read(f"{run.run_id}/README.md").decode()
    assert (run.path / directory.FINAL_ADAPTER_DIR / "adapter_model.safetensors").read_bytes() == final_weights
    assert "checkpoint 0" in promotion.promoted_sentence(run)

    promotion.restore_final(run.run_id)

    assert checkpoints.promoted_step(run.path) is None and not (run.path / directory.FINAL_ADAPTER_DIR).exists()
    assert (run.adapter_dir / "adapter_model.safetensors").read_bytes() == final_weights
    assert answer(run.run_id) == final_answer, "the server answers with the final model again"


def test_a_merge_made_before_a_promotion_is_outdated_after_it(run_with_checkpoints, monkeypatch):
    run = run_with_checkpoints
    fingerprint = merge.adapter_fingerprint(run)
    merge.merge_task(run).state_path.write_text(json.dumps({"state": "succeeded", "adapter": fingerprint}))
    assert merge.merge_state(run).state == "succeeded"
    promotion.promote(run.run_id, 128)
    assert merge.merge_state(run).state == "outdated"


def test_a_checkpoint_evaluation_is_kept_apart_and_reuses_the_base_answers(run_with_checkpoints, tmp_path):
    run = run_with_checkpoints
    test_file = tmp_path / "three.jsonl"
    test_file.write_text("".join(DEMO_HELDOUT_FILE.read_text().splitlines(keepends=True)[:3]))
    final = evaluate.evaluate(run.run_id, data=test_file)
    heard = []
    early = evaluate.evaluate(run.run_id, data=test_file, checkpoint=128, progress=lambda *seen: heard.append(seen))
    assert heard[0] == (4, 6), "the base's three answers came from the final model's evaluation"
    assert [row["base"] for row in early.examples] == [row["base"] for row in final.examples]
    assert early.checkpoint == 128 and evaluate.summary(early).split(": ")[0].endswith("untrained -> checkpoint 128")
    assert evaluate.read_evaluation(run) == final and evaluate.read_evaluation(run, 128) == early
    assert evaluate.checkpoint_evaluations(run) == {128: early}
    promotion.promote(run.run_id, 128)
    assert evaluate.current_evaluation(run) == early


def test_what_cannot_be_promoted_is_refused_in_a_sentence(run_with_checkpoints):
    run = run_with_checkpoints
    with pytest.raises(UserError, match="no saved checkpoint at step 7; pick one"):
        promotion.promote(run.run_id, 7)
    with pytest.raises(UserError, match="that you can see"):
        promotion.promote(run.run_id, 128, Actor("mallory"))
    with pytest.raises(UserError, match="already answers with the model its training saved"):
        promotion.restore_final(run.run_id)
    with pytest.raises(UserError, match="no saved checkpoint at step 7; the Runs page lists"):
        catalogue.find(f"{run.run_id}@checkpoint-7")
    (run.path / "checkpoints/checkpoint-128/adapter_model.safetensors").unlink()
    assert [saved.step for saved in promotion.saved_models(run)] == [160], "a checkpoint without weights is no model"


def test_checkpoints_are_listed_and_one_is_promoted_and_undone_from_the_shell(demo_home, trained_demo):
    run_dir = copy_trained_run(trained_demo, demo_home, with_checkpoints=True)
    listed = workbench(demo_home, "checkpoints", trained_demo.run_id)
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert rows[0].split() == ["step", "epoch", "train", "loss", "held-out", "loss", "token", "F1"]
    assert [row.split()[0] for row in rows[1:]] == ["128", "160"]
    promoted = workbench(demo_home, "promote", trained_demo.run_id, "128")
    assert promoted.returncode == 0 and "answers with checkpoint 128" in promoted.stdout, promoted.stderr
    assert checkpoints.promoted_step(run_dir) == 128
    assert workbench(demo_home, "checkpoints", trained_demo.run_id).stdout.splitlines()[1].endswith("<- answers now")
    refused = workbench(demo_home, "promote", trained_demo.run_id, "latest")
    assert refused.returncode == 2 and "'latest' is not a checkpoint step" in refused.stderr
    undone = workbench(demo_home, "promote", trained_demo.run_id, "final")
    assert undone.returncode == 0 and checkpoints.promoted_step(run_dir) is None, undone.stderr
