"""Tests for workbench.dataset_store: immutable versions with their metadata, cleaning, splitting, the server folder
and the size limit."""

import hashlib
import json
import os
import stat
import threading

import pytest

from workbench.data import cleaning, library, library_tables, uploads
from workbench.data.validation import validate
from workbench.errors import UserError
from workbench.team.identity import Actor


def chat(i: int) -> str:
    return json.dumps({"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]})


FLAWED = ("\n".join([chat(i) for i in range(12)] + [chat(3), "{oops", chat(5)]) + "\n").encode()


def test_the_original_is_version_1_byte_for_byte_and_read_only(home):
    report = validate(FLAWED, "my chats.jsonl")
    version = library.create_dataset("uploads/my chats.jsonl", FLAWED, report, actor=Actor("ana"))
    assert version.version == 1 and version.path.read_bytes() == FLAWED
    assert version.sha256 == hashlib.sha256(FLAWED).hexdigest()
    assert (version.rows, version.total, version.format, version.owner) == (14, 15, "messages", "ana")
    assert version.name == "my-chats" and version.path.is_relative_to(home / "datasets" / "library")
    assert not os.access(version.path, os.W_OK) or os.geteuid() == 0
    assert stat.S_IMODE(version.path.stat().st_mode) == 0o444
    assert library.create_dataset("my chats.jsonl", FLAWED, report) == version, "same file, same version"


def test_cleaning_saves_a_new_version_and_leaves_the_original_alone(home):
    report = validate(FLAWED, "chats.jsonl")
    cleaned = cleaning.save_cleaned("chats.jsonl", FLAWED, report, drop_duplicates=True)
    assert cleaned.version == 2 and cleaned.parent == 1 and cleaned.rows == 12 and cleaned.format == "messages"
    assert (
        cleaned.note
        == "Cleaned: kept 12 of 15 records, left out 1 record with errors and 2 duplicate or too-long records."
    )
    lines = cleaned.path.read_text().splitlines()
    assert len(lines) == 12 and json.loads(lines[0]) == json.loads(chat(0))
    original = library.get_version(cleaned.dataset_id, 1)
    assert original.path.read_bytes() == FLAWED
    assert validate(cleaned.path.read_bytes(), cleaned.file).ok
    kept = cleaning.save_cleaned("chats.jsonl", FLAWED, report, drop_duplicates=False)
    assert (kept.version, kept.rows) == (3, 14)


def test_a_file_without_problems_is_saved_once_as_it_is(home):
    content = ("\n".join(chat(i) for i in range(10)) + "\n").encode()
    version = cleaning.save_cleaned("fine.jsonl", content, validate(content, "fine.jsonl"))
    assert version.version == 1 and version.path.read_bytes() == content


def test_two_people_saving_at_once_get_different_version_numbers(home):
    report = validate(FLAWED, "chats.jsonl")
    base = library.create_dataset("chats.jsonl", FLAWED, report)
    saved: list[int] = []

    def save(rows: list) -> None:
        saved.append(library.save_version(base, rows, "x").version)

    threads = [threading.Thread(target=save, args=(report.rows[k:],)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(saved) == list(range(2, 10))
    assert [version.version for version in library.list_versions(base.dataset_id)] == list(range(1, 10))


def test_saving_the_same_rows_twice_keeps_one_version_and_says_so(home):
    report = validate(FLAWED, "chats.jsonl")
    base = library.create_dataset("chats.jsonl", FLAWED, report)
    saved: list[library.Version] = []
    threads = [
        threading.Thread(target=lambda: saved.append(library.save_version(base, report.rows[1:], "x")))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {version.version for version in saved} == {2} and sum(not v.already_saved for v in saved) == 1
    assert [version.version for version in library.list_versions(base.dataset_id)] == [1, 2]
    split = library.save_version(base, report.rows[1:], "x", validation_rows=report.rows[:1])
    assert split.version == 3 and not split.already_saved, "the same rows with a validation set are a new version"
    assert "already_saved" not in (split.path.parent / "v3.meta.json").read_text()


def test_library_lists_datasets_and_versions_newest_first(home):
    first = library.create_dataset("a.jsonl", FLAWED, validate(FLAWED, "a.jsonl"))
    content = ("\n".join(chat(i) for i in range(20, 30)) + "\n").encode()
    second = library.create_dataset("b.jsonl", content, validate(content, "b.jsonl"))
    listed = library.list_datasets()
    assert [versions[0].dataset_id for versions in listed] == [second.dataset_id, first.dataset_id]
    [row] = library_tables.library_table(listed[:1])
    assert (row["dataset"], row["versions"], row["rows"], row["format"]) == ("b", 1, 10, "messages")
    [table_row] = library_tables.versions_table(listed[1])
    assert table_row["sha256"] == first.sha256[:12] and table_row["how"].startswith("Original upload: a.jsonl")


def test_split_is_seeded_and_keeps_the_file_order():
    rows = [{"messages": [{"role": "user", "content": str(i)}]} for i in range(100)]
    train, held_out = cleaning.split_for_validation(rows, 0.1, seed=7)
    assert (len(train), len(held_out)) == (90, 10)
    assert cleaning.split_for_validation(rows, 0.1, seed=7) == (train, held_out)
    assert cleaning.split_for_validation(rows, 0.1, seed=8)[1] != held_out
    assert held_out == sorted(held_out, key=lambda row: int(row["messages"][0]["content"]))
    with pytest.raises(UserError):
        cleaning.split_for_validation(rows, 0.0, seed=1)


def test_size_limit_is_configurable_and_explained(home, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MAX_DATASET_MB", "0.0001")
    with pytest.raises(UserError) as error:
        uploads.save_upload("big.jsonl", FLAWED)
    assert "more than this server's limit" in str(error.value) and "WORKBENCH_MAX_DATASET_MB" in str(error.value)
    monkeypatch.setenv("WORKBENCH_MAX_DATASET_MB", "not a number")
    assert uploads.max_dataset_bytes() == 200 * 2**20


def test_version_for_path_only_knows_library_files(home, tmp_path):
    outside = tmp_path / "v1.data.jsonl"
    outside.write_bytes(FLAWED)
    assert library.version_for_path(outside) is None
    version = library.create_dataset("a.jsonl", FLAWED, validate(FLAWED, "a.jsonl"))
    assert library.version_for_path(version.path) == version


def test_split_note_warns_when_validation_repeats_training(home):
    report = validate(FLAWED, "chats.jsonl")
    base = library.create_dataset("chats.jsonl", FLAWED, report)
    rows = report.rows
    from workbench.data.validation import overlapping

    assert overlapping(rows[:12], rows[12:]) == [0, 1], "the two repeats at the end are in the first twelve"
    note = cleaning.split_note(base, 2, {"fraction": 0.15, "seed": 1}, overlap=2)
    assert note == (
        "v1 split at random: 2 records (15%, seed 1) for validation. Warning: 2 validation records also appear in "
        "the training records, which makes the held-out score look better than it is; drop duplicates first."
    )


def test_in_team_mode_a_dataset_is_its_owners_until_shared(team_home):
    from workbench.config import RunConfig
    from workbench.jobs import control
    from workbench.team import audit

    alice, bob = Actor("alice"), Actor("bob")
    content = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n' * 12
    report = validate(content, "chats.jsonl")
    mine = library.create_dataset("chats.jsonl", content, report, alice)
    assert [v[0].dataset_id for v in library.visible_datasets(bob)] == []
    with pytest.raises(UserError, match="no dataset .* that you can see"):
        control.submit(RunConfig(dataset=str(mine.path)), bob)
    with pytest.raises(UserError, match="no dataset .* that you can see"):
        library.save_version(mine, report.rows[:5], "bob's cut", actor=bob)
    theirs = library.create_dataset("chats.jsonl", content, report, bob)
    assert theirs.dataset_id != mine.dataset_id and theirs.owner == "bob", "the same file becomes bob's own dataset"
    library.share_dataset(alice, mine.dataset_id)
    assert mine.dataset_id in [v[0].dataset_id for v in library.visible_datasets(bob)]
    assert control.submit(RunConfig(dataset=str(mine.path)), bob).state == "queued"
    assert library.save_version(mine, report.rows[:5], "bob's cut", actor=bob).owner == "bob"
    assert [(e.user, e.target) for e in audit.events(action="upload")] == [("bob", "chats v1"), ("alice", "chats v1")]
