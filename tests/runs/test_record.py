"""Tests for workbench.record: the run record written at the start and end of training, and how it reads."""

from workbench.runs import record


def test_the_record_holds_versions_hashes_device_owner_and_hours(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"text": "hello"}\n')
    started = record.start_record(tmp_path, data, 1, "NVIDIA H100 80GB HBM3", True, "maria")
    assert started["dataset"]["sha256"] == record.file_sha256(data)
    assert started["packages"]["torch"] != "not installed" and "trl" in started["packages"]
    record.finish_record(tmp_path, "succeeded", retries=[{"after_step": 3, "change": "micro-batch 4"}])
    finished = record.read_record(tmp_path)
    assert finished["state"] == "succeeded" and finished["gpu_hours"] == finished["hours"] >= 0
    facts = dict(record.record_facts(finished))
    assert facts["Started by"] == "maria" and facts["Device"] == "NVIDIA H100 80GB HBM3"
    assert facts["Retried"] == "after step 3: micro-batch 4"
    assert facts["Dataset"] == "train.jsonl (1 row)" and facts["transformers"] == started["packages"]["transformers"]


def test_cpu_runs_use_no_gpu_hours_and_an_absent_record_reads_as_nothing(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    record.start_record(tmp_path, data, 1, "CPU (2 cores)", False, "")
    record.finish_record(tmp_path, "failed", "host_oom")
    assert record.read_record(tmp_path)["gpu_hours"] == 0.0
    assert record.read_record(tmp_path)["failure"] == "host_oom"
    assert record.record_facts(record.read_record(tmp_path / "missing")) == []


def test_the_measured_peak_is_the_processs_resident_memory_on_a_cpu():
    import resource

    expected = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kilobytes to GB
    assert abs(record.measured_peak_gb(cuda=False) - expected) < 0.01
    assert 0.01 < expected < 64, "a Python process holds tens of MB or more"


def test_on_cuda_the_peak_is_what_torch_reserved(monkeypatch):
    import torch

    # No CUDA device on this machine: torch's reading of the GPU is replaced, and only that.
    monkeypatch.setattr(torch.cuda, "max_memory_reserved", lambda: 9 * 2**30)
    assert record.measured_peak_gb(cuda=True) == 9.0


def test_the_record_sets_the_estimate_beside_the_measured_peak(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"text": "hello"}\n')
    record.start_record(tmp_path, data, 1, "NVIDIA H200", True, "maria", estimated_peak_gb=9.14)
    assert dict(record.record_facts(record.read_record(tmp_path)))["Peak memory"] == (
        "estimated 9.1 GB before start, not measured yet"
    )
    record.finish_record(tmp_path, "succeeded", peak_gb=8.42)
    assert dict(record.record_facts(record.read_record(tmp_path)))["Peak memory"] == (
        "estimated 9.1 GB before start, measured 8.4 GB (GPU, reserved by torch)"
    )


def test_the_demo_run_recorded_its_estimate_and_its_measured_peak(trained_home):
    from workbench.runs import directory

    facts = record.read_record(directory.get_run(trained_home.run_id).path)
    assert facts["estimated_peak_gb"] is None or facts["estimated_peak_gb"] > 0
    assert 0.2 < facts["measured_peak_gb"] < 16, "a tiny model trains in well under the machine's memory"


def test_closing_a_crashed_run_keeps_the_peak_the_trainer_measured(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"text": "hello"}\n')
    record.start_record(tmp_path, data, 1, "CPU", False, "maria")
    record.finish_record(tmp_path, "failed", peak_gb=0.5)  # the training process, on its way out
    record.finish_record(tmp_path, "failed", "killed")  # the runner, which cannot measure anything
    assert record.read_record(tmp_path)["measured_peak_gb"] == 0.5


def test_the_record_names_the_dataset_by_its_label_never_by_its_path(tmp_path):
    data = tmp_path / "v2.data.jsonl"
    data.write_text('{"text": "a"}\n{"text": "b"}\n')
    record.start_record(tmp_path, data, 2, "CPU (2 cores)", False, "", dataset_label="identity v2")
    assert dict(record.record_facts(record.read_record(tmp_path)))["Dataset"] == "identity v2 (2 rows)"


def test_the_speed_recipe_and_the_phases_read_as_sentences(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"text": "hello"}\n')
    record.start_record(tmp_path, data, 1, "CPU (2 cores)", False, "maria")
    recipe = [{"name": "Liger kernels", "used": False, "reason": "they need an NVIDIA GPU", "setting": "x"}]
    record.note(tmp_path, speedups=recipe, phases={"loading the model": 1.0, "training": 3.0})
    facts = dict(record.record_facts(record.read_record(tmp_path)))
    assert facts["Liger kernels"] == "not used: they need an NVIDIA GPU"
    assert facts["Where the time went"] == "training 3.0 s (75%), loading the model 1.0 s (25%)"


def test_the_demo_run_recorded_where_its_time_went_and_its_speed_recipe(trained_home):
    from workbench.runs import directory

    facts = record.read_record(directory.get_run(trained_home.run_id).path)
    phases = facts["phases"]
    expected = {"waiting in the queue", "loading the data", "loading the model", "scoring the untrained model"}
    assert expected | {"training", "evaluation", "saving", "scoring the trained model"} <= set(phases)
    assert phases["training"] > phases["evaluation"] > 0 and phases["waiting in the queue"] < 60
    batching = next(choice for choice in facts["speedups"] if choice["name"] == "Padding-free batching")
    assert batching["used"] is False, "the demo's conversations are all about 32 tokens: padding costs less"
    assert batching["reason"].startswith("not used for this data and model: padding-free batches would take about")


def test_phases_of_the_wrong_kind_are_left_out():
    assert record.phases({"phases": {"training": 2, "saving": "soon"}}) == {"training": 2.0}
    assert record.phases({"phases": "junk"}) == {} and record.phases({}) == {}


def test_a_garbage_speed_recipe_in_the_record_reads_without_breaking_the_page(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    record.start_record(tmp_path, data, 1, "CPU (2 cores)", False, "")
    record.note(tmp_path, speedups=["junk", {"used": True}])
    facts = record.record_facts(record.read_record(tmp_path))
    assert ("?", "used: ") in facts and facts[0][0] == "Started by", "the other facts still read"
