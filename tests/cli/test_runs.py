"""Tests for the `workbench` command line, run as a real subprocess like a user or a systemd unit would."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REAL_DATASETS

from workbench.jobs import control, queue
from workbench.models.demo_task import DEMO_TRAIN_FILE
from workbench.planning.presets import demo_config
from workbench.team.identity import Actor


ROOT = Path(__file__).resolve().parents[2]


def workbench(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_RUNNER_IDLE_EXIT": "3"}
    command = [sys.executable, "-m", "workbench.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT)


def test_train_wait_follows_the_run_and_exits_zero_on_success(demo_home, tmp_path):
    config = tmp_path / "quick.yaml"
    demo_config(dataset=str(DEMO_TRAIN_FILE), num_train_epochs=0.5).save(config)
    result = workbench(demo_home, "train", str(config), "--wait")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Queued run" in result.stdout and "succeeded: step" in result.stdout
    listed = json.loads(workbench(demo_home, "jobs", "list", "--json").stdout)
    assert [job["state"] for job in listed] == ["succeeded"]


def test_train_runs_the_pre_flight_check_and_refuses_a_red_run_unless_forced(demo_home, big_model, tmp_path):
    config = tmp_path / "too-big.yaml"
    demo_config(model=str(big_model), method="lora", max_length=512).save(config)  # 28 GB of weights
    refused = workbench(demo_home, "train", str(config))
    assert refused.returncode == 2 and "Verdict: RED." in refused.stdout
    assert "add --force" in refused.stderr
    assert json.loads(workbench(demo_home, "jobs", "list", "--json").stdout) == []
    forced = workbench(demo_home, "train", str(config), "--force")
    assert forced.returncode == 0 and "Queued run" in forced.stdout
    [job] = json.loads(workbench(demo_home, "jobs", "list", "--json").stdout)
    assert job["peak_gb"] > 24, "the estimate travels with the job, for the runner's GPU sharing"
    workbench(demo_home, "jobs", "cancel", job["run_id"])


def test_a_run_whose_checkpoints_cannot_fit_on_the_disk_is_refused_even_with_force(demo_home, big_model, tmp_path):
    config = tmp_path / "full-7b.yaml"
    demo_config(model=str(big_model), method="full").save(config)  # 3 checkpoints of 7B weights and Adam moments
    refused = workbench(demo_home, "train", str(config), "--force")
    assert refused.returncode == 2 and "of disk, but only" in refused.stderr and "Traceback" not in refused.stderr
    assert json.loads(workbench(demo_home, "jobs", "list", "--json").stdout) == []


def test_example_config_is_the_demo_run():
    from workbench.config import RunConfig

    assert RunConfig.load(ROOT / "examples" / "demo.yaml") == demo_config()
    on_slurm = RunConfig.load(ROOT / "examples" / "demo-slurm.yaml")
    assert on_slurm == demo_config(run_name="demo-slurm", backend="slurm"), "the demo, sent to Slurm"


def test_cancel_a_queued_job_from_the_command_line(home):
    from workbench.config import RunConfig
    from workbench.jobs import control

    job = control.submit(RunConfig())
    result = workbench(home, "jobs", "cancel", job.run_id)
    assert result.returncode == 0 and "cancelled" in result.stdout
    assert queue.get_job(job.run_id).state == "cancelled"


def test_user_errors_are_one_line_without_traceback(home, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("learning_rate: -3\n")
    result = workbench(home, "train", str(bad))
    assert result.returncode == 2
    assert result.stderr.startswith("error: Learning rate (learning_rate): -3.0 is outside the allowed range")
    assert "Traceback" not in result.stderr
    missing = workbench(home, "jobs", "resume", "no-such-run")
    assert missing.returncode == 2 and "no job for run" in missing.stderr


def test_jobs_list_prints_the_queue_as_text(demo_home):
    first = control.submit(demo_config(), actor=Actor("alice"))
    second = control.submit(demo_config(), actor=Actor("bob"))
    lines = workbench(demo_home, "jobs", "list").stdout.splitlines()
    assert [line.split()[:4] for line in lines] == [
        [second.run_id, "queued", "#2", "bob"],
        [first.run_id, "queued", "#1", "alice"],
    ]
    for job in (first, second):
        workbench(demo_home, "jobs", "cancel", job.run_id)


def test_train_with_a_preset_fits_it_to_the_data_and_says_what_changed(demo_home, tmp_path):
    config = tmp_path / "identity.yaml"
    demo_config(dataset=str(REAL_DATASETS / "llamafactory_identity.json"), run_name="identity").save(config)
    result = workbench(demo_home, "train", str(config), "--preset", "Balanced")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Preset Balanced, fitted to the data:" in result.stdout and "Max length (tokens): 64 → 256" in result.stdout
    assert "Verdict: GREEN" in result.stdout and "Queued run" in result.stdout
    [job] = json.loads(workbench(demo_home, "jobs", "list", "--json").stdout)
    workbench(demo_home, "jobs", "cancel", job["run_id"])


def test_a_run_whose_data_cannot_be_used_is_never_queued(demo_home, tmp_path):
    config = tmp_path / "broken.yaml"
    demo_config(dataset=str(REAL_DATASETS / "openai_toy_chat_fine_tuning.jsonl")).save(config)  # line 4 has no user
    result = workbench(demo_home, "train", str(config))
    assert result.returncode == 2 and "Queued run" not in result.stdout
    assert "cannot be used for training" in result.stderr and "Traceback" not in result.stderr
    assert json.loads(workbench(demo_home, "jobs", "list", "--json").stdout) == []


def test_cancelling_a_finished_run_is_refused_and_a_closed_pipe_is_no_traceback(demo_home):
    job = control.submit(demo_config())
    queue.mark_finished(job.run_id, "succeeded")
    refused = workbench(demo_home, "jobs", "cancel", job.run_id)
    assert refused.returncode == 2 and "has already finished; there is nothing to cancel" in refused.stderr
    env = {**os.environ, "WORKBENCH_HOME": str(demo_home)}
    # `true` has exited before Python writes: the write meets a closed pipe, as `jobs list | head` does
    piped = subprocess.run(
        f"{sys.executable} -m workbench.cli jobs list | true",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert piped.returncode == 0 and "BrokenPipeError" not in piped.stderr, piped.stderr
