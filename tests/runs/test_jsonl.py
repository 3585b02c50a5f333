"""Tests for workbench.runs.jsonl: a file being appended to reads as its complete objects."""

from workbench.runs.jsonl import read_json_lines


def test_a_half_written_last_line_garbage_and_non_objects_are_skipped(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"step": 1}\nnot json\n[1, 2]\n\xff\xfe\n{"step": 2}\n{"step": 3, "lo')
    assert read_json_lines(path) == [{"step": 1}, {"step": 2}]
    assert read_json_lines(tmp_path / "missing.jsonl") == []
