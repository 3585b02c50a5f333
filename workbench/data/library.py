"""The dataset library: immutable, numbered versions of each dataset (uploads themselves: ``workbench.data.uploads``).

Layout under the data folder's ``datasets/`` (``workbench.paths.uploads_dir``)::

    <label>-<hash>.<ext>                 an upload, named by its content hash; the user's name is only a label
    library/<dataset>/v1.data.<ext>      version 1: the original file, byte for byte
    library/<dataset>/v2.data.jsonl      a cleaned or split version: normalised training rows
    library/<dataset>/v2.validation.jsonl  its validation rows, when it was split or given a validation file
    library/<dataset>/v2.meta.json       metadata: content hash, row count, format, who, when, how it was made

Versions are never rewritten: files are made read-only and each new version takes the next number (claimed with an
exclusive create, so two people saving at once get different numbers); a save that fails half-way (a full disk)
leaves no version behind.

A dataset belongs to whoever saved its first version; in team mode the others see it, and save versions of it, only
when it is shared with the team (``workbench.team.access``). The same file uploaded by someone who may not see the
first upload becomes a dataset of their own.
"""

import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench import paths
from workbench.data.uploads import check_size, label_of, suffix_of, write_atomically
from workbench.errors import UserError, disk_space
from workbench.team import access, audit
from workbench.team.identity import Actor


VERSION_FILE = re.compile(r"^v(\d+)\.(data|validation)\.")


@dataclass
class Version:
    """One immutable version of a dataset and how it came to be."""

    dataset_id: str
    version: int
    name: str
    file: str
    sha256: str
    rows: int
    total: int
    format: str | None
    kind: str
    owner: str
    created_at: float
    note: str
    parent: int | None = None
    mapping: dict[str, str] | None = None
    validation_file: str = ""
    validation_rows: int = 0
    split: dict[str, Any] | None = field(default=None)
    already_saved: bool = field(default=False, compare=False)  # not stored: this save found the same version saved

    @property
    def path(self) -> Path:
        return library_dir() / self.dataset_id / self.file

    @property
    def validation_path(self) -> Path | None:
        return library_dir() / self.dataset_id / self.validation_file if self.validation_file else None

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


def library_dir() -> Path:
    path = paths.uploads_dir() / "library"
    path.mkdir(exist_ok=True)
    return path


def create_dataset(file_name: str, content: bytes, report: Any, actor: Actor | None = None) -> Version:
    """Add a file to the library as version 1 (the original bytes); the same file again returns that version."""
    actor = access.acting(actor)
    check_size(len(content))
    digest = hashlib.sha256(content).hexdigest()
    dataset_id = f"{label_of(file_name)}-{digest[:8]}"
    if list_versions(dataset_id) and not may_see_dataset(actor, dataset_id):
        dataset_id = f"{dataset_id}-{actor.name}"  # someone else's upload of the same file, not shared
    existing = [v for v in list_versions(dataset_id) if v.version == 1 and v.sha256 == digest]
    if existing:
        return existing[0]
    info = {
        "name": label_of(file_name),
        "rows": len(report.rows),
        "total": report.total,
        "format": report.format,
        "kind": report.kind,
        "note": f"Original upload: {Path(file_name.replace(chr(92), '/')).name}",
        "mapping": report.mapping.to_dict() if report.mapping else None,
    }
    version = add_version(dataset_id, content, suffix_of(file_name), info, actor)
    audit.record(actor.name, "upload", version.label, f"{version.rows} records, {len(content):,} bytes")
    return version


def save_version(
    base: Version,
    rows: list[dict[str, Any]],
    note: str,
    validation_rows: list[dict[str, Any]] | None = None,
    split: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> Version:
    """A new version of ``base``'s dataset holding these normalised rows (and validation rows, when given)."""
    if not rows:
        raise UserError("Nothing would be left to train on; keep at least one usable record.")
    content = rows_to_jsonl(rows)
    check_size(len(content))
    info = {
        "name": base.name,
        "rows": len(rows),
        "total": len(rows),
        "format": "text" if "text" in rows[0] else "messages",
        "kind": "jsonl",
        "note": note,
        "parent": base.version,
        "split": split,
    }
    return add_version(base.dataset_id, content, ".jsonl", info, actor, validation_rows)


def rows_to_jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def add_version(
    dataset_id: str,
    content: bytes,
    suffix: str,
    info: dict[str, Any],
    actor: Actor | None,
    validation_rows: list[dict[str, Any]] | None = None,
) -> Version:
    """A new numbered version, saved by ``actor`` (who must be allowed to see the dataset); when one with the same
    data and validation rows exists, that one (``already_saved``)."""
    actor = access.acting(actor)
    if list_versions(dataset_id):
        access.check_see(actor, dataset_owner(dataset_id), "dataset", dataset_id)
    folder = library_dir() / dataset_id
    with disk_space("saving the dataset version"), _saving(folder):
        if (same := _same_version(dataset_id, content, validation_rows)) is not None:
            same.already_saved = True
            return same
        number = _claim_number(folder)
        try:
            return _write_version(folder, number, content, suffix, info, actor.name, validation_rows)
        except BaseException:  # no half-made version: its number stays free for the next save
            for path in folder.glob(f"v{number}.*"):
                path.unlink(missing_ok=True)
            raise


@contextmanager
def _saving(folder: Path) -> Iterator[None]:
    """One save at a time per dataset, so two identical saves at once make one version, not two."""
    folder.mkdir(exist_ok=True)
    with open(folder / ".saving.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _same_version(dataset_id: str, content: bytes, validation_rows: list[dict[str, Any]] | None) -> Version | None:
    digest = hashlib.sha256(content).hexdigest()
    held_out = rows_to_jsonl(validation_rows) if validation_rows else b""
    for version in list_versions(dataset_id):
        if version.sha256 != digest:
            continue
        saved = version.validation_path.read_bytes() if version.validation_path else b""
        if saved == held_out:
            return version
    return None


def _write_version(
    folder: Path,
    number: int,
    content: bytes,
    suffix: str,
    info: dict[str, Any],
    owner: str,
    validation_rows: list[dict[str, Any]] | None,
) -> Version:
    version = Version(
        dataset_id=folder.name,
        version=number,
        file=f"v{number}.data{suffix}",
        sha256=hashlib.sha256(content).hexdigest(),
        owner=owner,
        created_at=time.time(),
        **info,
    )
    write_atomically(folder / version.file, content, read_only=True)
    if validation_rows:
        version.validation_file, version.validation_rows = f"v{number}.validation.jsonl", len(validation_rows)
        write_atomically(folder / version.validation_file, rows_to_jsonl(validation_rows), read_only=True)
    meta = json.dumps({key: value for key, value in asdict(version).items() if key != "already_saved"}, indent=1)
    meta = meta.encode()
    write_atomically(folder / f"v{number}.meta.json", meta, read_only=True)
    return version


def _claim_number(folder: Path) -> int:
    number = max((_number(path) for path in folder.glob("v*.meta.json")), default=0) + 1
    while True:
        try:
            os.close(os.open(folder / f"v{number}.meta.json", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return number
        except FileExistsError:
            number += 1


def _number(path: Path) -> int:
    match = VERSION_FILE.match(path.name) or re.match(r"^v(\d+)\.meta\.json$", path.name)
    return int(match.group(1)) if match else 0


def list_versions(dataset_id: str) -> list[Version]:
    """The versions of one dataset, oldest first (versions still being written are left out)."""
    folder = library_dir() / dataset_id
    found = [_load_meta(path) for path in folder.glob("v*.meta.json")] if folder.is_dir() else []
    return sorted((version for version in found if version is not None), key=lambda version: version.version)


def list_datasets() -> list[list[Version]]:
    """Every dataset in the library with its versions, most recently changed first."""
    datasets = [list_versions(folder.name) for folder in library_dir().iterdir() if folder.is_dir()]
    datasets = [versions for versions in datasets if versions]
    return sorted(datasets, key=lambda versions: versions[-1].created_at, reverse=True)


def get_version(dataset_id: str, number: int) -> Version:
    for version in list_versions(dataset_id):
        if version.version == number:
            return version
    raise UserError(f"There is no version {number} of the dataset {dataset_id}; pick one from the library.")


def version_for_path(path: Path) -> Version | None:
    """The library version a data or validation file belongs to, or None for files outside the library."""
    match = VERSION_FILE.match(path.name)
    if match is None or path.parent.parent.resolve() != library_dir().resolve():
        return None
    return _load_meta(path.parent / f"v{match.group(1)}.meta.json")


def _load_meta(path: Path) -> Version | None:
    try:
        return Version(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


# --- who may see what -------------------------------------------------------------------------------------------


def dataset_owner(dataset_id: str) -> str:
    """Whoever saved the dataset's first version ('' for a dataset without versions)."""
    versions = list_versions(dataset_id)
    return versions[0].owner if versions else ""


def may_see_dataset(actor: Actor, dataset_id: str) -> bool:
    return access.may_see(actor, dataset_owner(dataset_id), "dataset", dataset_id)


def visible_datasets(actor: Actor) -> list[list[Version]]:
    """The datasets ``actor`` may see, most recently changed first."""
    return [versions for versions in list_datasets() if may_see_dataset(actor, versions[0].dataset_id)]


def check_visible(actor: Actor, path: Path) -> None:
    """Refuse a library file (data or validation) of a dataset ``actor`` may not see; other paths pass."""
    version = version_for_path(path)
    if version is not None:
        access.check_see(actor, dataset_owner(version.dataset_id), "dataset", version.dataset_id)


def share_dataset(actor: Actor, dataset_id: str, shared: bool = True) -> None:
    """Share a dataset (every version) with the team, or stop sharing it; its owner or an admin may."""
    access.check_see(actor, dataset_owner(dataset_id), "dataset", dataset_id)
    access.set_shared(actor, "dataset", dataset_id, dataset_owner(dataset_id), shared)
