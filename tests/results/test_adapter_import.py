"""Tests for workbench.results.adapter_import: the workbench's own adapter zip imports as a run the model server
answers with, and every unsafe or unfitting archive is refused with its own sentence before anything is written."""

import io
import stat
import zipfile

import pytest
from served import loaded, reply_text

from workbench.errors import UserError
from workbench.results import adapter_import, export
from workbench.runs import directory
from workbench.team.identity import Actor


def adapter_files(trained_demo) -> dict[str, bytes]:
    folder = trained_demo.home / "runs" / trained_demo.run_id / "adapter"
    names = ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json")
    return {name: (folder / name).read_bytes() for name in names}


def zipped(files: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_the_downloaded_zip_imports_as_a_run_that_answers_like_the_original(demo_home, trained_demo, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(trained_demo.home))
    original = directory.get_run(trained_demo.run_id)
    data = export.adapter_zip_bytes(original)  # holds the model card and the rendering too
    question = [{"role": "user", "content": "Which city is mentioned? Lena has lived in Quito for ten years."}]
    with loaded(original.run_id) as ready:
        expected = reply_text(ready, question, 8)
    monkeypatch.setenv("WORKBENCH_HOME", str(demo_home))
    run = adapter_import.import_adapter(data, "demo", "from elsewhere", Actor("alice"))
    assert (run.is_adapter, directory.read_status(run.path).state) == (True, "succeeded")
    assert directory.read_status(run.path).owner == "alice"
    assert not (run.adapter_dir / "training_args.bin").exists()
    with loaded(run.run_id) as ready:
        assert reply_text(ready, question, 8) == expected == "Quito"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda files: {**files, "training_args.bin": b"\x80\x04pickle"}, "a pickle file"),
        (lambda files: {**files, "../evil.json": b"{}"}, "points outside the adapter folder"),
        (lambda files: {**files, "/etc/evil.json": b"{}"}, "points outside the adapter folder"),
        (lambda files: {**files, "run.sh": b"rm -rf /"}, "not part of an adapter"),
        (lambda files: {**files, "model-00001.safetensors": b""}, "adapter_model.safetensors"),
        (lambda files: {k: v for k, v in files.items() if k != "adapter_config.json"}, "has no adapter_config.json"),
        (lambda files: {**files, "adapter_config.json": b"{nope"}, "not valid JSON"),
        (lambda files: {**files, "adapter_config.json": b'{"peft_type": "IA3"}'}, "Only LoRA adapters"),
        (lambda files: {**files, "adapter_model.safetensors": b"garbage"}, "cannot be read"),
    ],
)
def test_each_unsafe_or_broken_archive_has_its_own_sentence(demo_home, trained_demo, change, words):
    data = zipped(change(adapter_files(trained_demo)))
    with pytest.raises(UserError, match=words):
        adapter_import.import_adapter(data, "demo", "x", Actor("alice"))
    assert directory.list_runs() == [], "nothing was written"


def test_symbolic_links_bombs_and_non_zips_are_refused(demo_home, trained_demo):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("tokenizer.json")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(UserError, match="symbolic link"):
        adapter_import.import_adapter(buffer.getvalue(), "demo", "x", Actor("alice"))
    bomb = zipped({**adapter_files(trained_demo), "README.md": b"0" * 5_000_000}, zipfile.ZIP_DEFLATED)
    with pytest.raises(UserError, match="unpacks to far more than it stores"):
        adapter_import.import_adapter(bomb, "demo", "x", Actor("alice"))
    with pytest.raises(UserError, match="not a zip archive"):
        adapter_import.import_adapter(b"PK not really", "demo", "x", Actor("alice"))


def test_an_adapter_for_another_base_is_refused_before_loading(demo_home, trained_demo, big_model):
    with pytest.raises(UserError, match="does not fit"):
        adapter_import.import_adapter(zipped(adapter_files(trained_demo)), str(big_model), "x", Actor("alice"))
    assert directory.list_runs() == []


def test_the_command_line_imports_the_same_way(demo_home, trained_demo, tmp_path, capsys):
    from workbench.cli import main

    archive = tmp_path / "adapter.zip"
    archive.write_bytes(zipped(adapter_files(trained_demo)))
    assert main(["import", str(archive), "--name", "cli"]) == 0, capsys.readouterr().err
    [run] = directory.list_runs()
    assert f"Imported as run {run.run_id}" in capsys.readouterr().out
    assert main(["import", str(tmp_path / "missing.zip")]) == 2
    assert "no readable file" in capsys.readouterr().err
