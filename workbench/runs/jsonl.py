"""Reading the run directory's append-only JSON Lines files (metrics, answers during training) while another
process may still be writing them."""

import json
from pathlib import Path
from typing import Any


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """Every JSON object of the file; broken lines (a half-written last one, garbage) and a missing file are
    skipped, not errors."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [record for record in map(_json_or_none, lines) if isinstance(record, dict)]


def _json_or_none(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None
