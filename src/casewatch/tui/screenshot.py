"""Where the palette's screenshot goes: a path the user picks in a dialog, the current
directory and a dated name by default (over SSH, the server's downloads directory helps
no one: issue 13, point 12). Pure functions, no Textual."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def default_screenshot_path(folder: Path, now: datetime) -> Path:
    """``folder/casewatch-2026-11-29-093000.svg``: the dialog's default, ``now`` (an aware
    datetime in the ``timezone`` setting's zone) naming it."""
    return folder / f"casewatch-{now:%Y-%m-%d-%H%M%S}.svg"


def screenshot_target(answer: str, default: Path) -> Path:
    """The full path of the SVG file the user asked for: ``answer`` with ``~`` expanded,
    relative to the current directory; a folder (an existing one, or text ending with
    ``/``) gets ``default``'s file name, and a name without ``.svg`` gets it added."""
    path = Path(answer).expanduser()
    if answer.endswith(("/", "\\")) or path.is_dir():
        path = path / default.name
    elif path.suffix.lower() != ".svg":
        path = path.with_name(path.name + ".svg")
    return path.absolute()
