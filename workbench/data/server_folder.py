"""The server folder: data files an admin put on the server (``WORKBENCH_DATASETS_DIR``) that users may pick on the
Data page instead of uploading. Only regular, visible data files inside that folder are offered or read: paths that
lead outside it (``..``, absolute paths, symbolic links) are refused."""

import os
from pathlib import Path

from workbench.data.uploads import SUFFIXES, check_size
from workbench.errors import UserError


MAX_FILES = 500


def root() -> Path | None:
    """The folder an admin opened for picking files, if any."""
    configured = os.environ.get("WORKBENCH_DATASETS_DIR", "").strip()
    if not configured or not Path(configured).expanduser().is_dir():
        return None
    return Path(configured).expanduser().resolve()


def list_files() -> list[str]:
    """Data files in the server folder, as paths relative to it (hidden files and folders left out)."""
    folder = root()
    if folder is None:
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or path.suffix.lower() not in SUFFIXES:
            continue
        if path.is_file() and _inside(path, folder):
            found.append(relative.as_posix())
        if len(found) >= MAX_FILES:
            break
    return found


def path_of(relative: str) -> Path:
    """The file picked from the server folder (within the size limit); refuses anything outside the folder."""
    folder = root()
    if folder is None:
        raise UserError("No server folder is configured; ask the admin to set WORKBENCH_DATASETS_DIR.")
    path = folder / relative
    if not _inside(path, folder) or not path.is_file():
        raise UserError(f"There is no file {relative!r} in the server folder; pick one from the list.")
    check_size(path.stat().st_size)
    return path.resolve()


def read_file(relative: str) -> bytes:
    """The bytes of a file picked from the server folder; refuses anything outside it."""
    return path_of(relative).read_bytes()


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except ValueError:
        return False
    return True
