"""What the dashboard remembers between runs, in ``dashboard.toml`` in the user state
directory: the theme chosen, and the table's sort order, filters and selected case
(issue 13, point 9). A file that is missing, unreadable or not TOML is an empty one: a
lost choice is not worth an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from casewatch.files import TomlFileError, atomic_write_text, read_toml

STATE_FILE = "dashboard.toml"


def state_file(state_dir: Path) -> Path:
    """The dashboard's state file in ``state_dir``."""
    return state_dir / STATE_FILE


def read_dashboard_state(state_dir: Path) -> dict[str, Any]:
    """What ``dashboard.toml`` in ``state_dir`` holds; empty when it is missing or
    cannot be read (:func:`casewatch.files.read_toml`'s errors)."""
    try:
        return read_toml(state_file(state_dir), "the dashboard state") or {}
    except TomlFileError:
        return {}


def update_dashboard_state(state_dir: Path, values: dict[str, str | bool | None]) -> None:
    """Write ``values`` into ``dashboard.toml`` in ``state_dir``, keeping its other keys;
    a None value removes its key. Written atomically, not flushed to disk (cheap to
    lose: :func:`casewatch.files.atomic_write_text`). Raises :class:`OSError` when the
    file cannot be written."""
    state = read_dashboard_state(state_dir)
    for key, value in values.items():
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    atomic_write_text(state_file(state_dir), tomli_w.dumps(state), durable=False)
