"""Tests for workbench.server_folder: only visible data files inside the admin's folder are offered and read."""

import json

import pytest

from workbench.data import server_folder
from workbench.errors import UserError


def chat(i: int) -> str:
    return json.dumps({"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]})


def test_server_folder_lists_data_files_and_refuses_paths_outside(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    (folder / "team").mkdir(parents=True)
    (folder / "team" / "faq.csv").write_text("prompt,completion\na,b\n")
    (folder / "chats.jsonl").write_text(chat(1))
    (folder / ".hidden.jsonl").write_text(chat(1))
    (folder / "notes.docx").write_text("x")
    (tmp_path / "secret.jsonl").write_text("secret")
    (folder / "link.jsonl").symlink_to(tmp_path / "secret.jsonl")
    assert server_folder.list_files() == [] and server_folder.root() is None
    monkeypatch.setenv("WORKBENCH_DATASETS_DIR", str(folder))
    assert server_folder.list_files() == ["chats.jsonl", "team/faq.csv"]
    assert server_folder.read_file("team/faq.csv").startswith(b"prompt")
    for sneaky in ("../secret.jsonl", "link.jsonl", str(tmp_path / "secret.jsonl"), "missing.jsonl"):
        with pytest.raises(UserError, match="pick one from the list"):
            server_folder.read_file(sneaky)
