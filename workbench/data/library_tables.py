"""The dataset library as tables people read: one row per dataset, one row per version."""

from typing import Any

from workbench import words
from workbench.data.library import Version


def library_table(library: list[list[Version]]) -> list[dict[str, Any]]:
    """One row per dataset: its name, how many versions, and its latest version's facts."""
    return [
        {
            "dataset": versions[-1].name,
            "versions": len(versions),
            "latest": f"v{versions[-1].version}",
            "rows": versions[-1].rows,
            "format": versions[-1].format or "unknown",
            "by": versions[-1].owner,
            "saved": words.clock(versions[-1].created_at),
        }
        for versions in library
    ]


def versions_table(versions: list[Version]) -> list[dict[str, Any]]:
    """One row per version, newest first: number, rows, format, content hash, who, when, validation rows, note."""
    return [
        {
            "version": f"v{version.version}",
            "rows": version.rows,
            "validation rows": version.validation_rows,
            "format": version.format or "unknown",
            "sha256": version.sha256[:12],
            "by": version.owner,
            "saved": words.clock(version.created_at),
            "how": version.note,
        }
        for version in reversed(versions)
    ]
