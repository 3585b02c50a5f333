"""Tests for workbench.record: the run record written at the start and end of training, and how it reads."""

from workbench import record


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
    assert facts["Dataset"].endswith("(1 rows)") and facts["transformers"] == started["packages"]["transformers"]


def test_cpu_runs_use_no_gpu_hours_and_an_absent_record_reads_as_nothing(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    record.start_record(tmp_path, data, 1, "CPU (2 cores)", False, "")
    record.finish_record(tmp_path, "failed", "host_oom")
    assert record.read_record(tmp_path)["gpu_hours"] == 0.0
    assert record.read_record(tmp_path)["failure"] == "host_oom"
    assert record.record_facts(record.read_record(tmp_path / "missing")) == []
