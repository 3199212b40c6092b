"""Theme files: TOML in ``casewatch/themes`` (the top-level ``themes/`` of the repo).

A theme file gives a name, ``dark``, the colours of :class:`textual.theme.Theme` and a
``[stages]`` table with a colour for each stage. Textual has no theme-file loader, so
this is one.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from casewatch.cases import Stage

DEFAULT_THEME = "casewatch-dark"

_COLOURS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "success",
    "warning",
    "error",
)


class ThemeError(ValueError):
    """A theme file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class CaseTheme:
    """A Textual theme and the colour of each stage (CSS colour strings)."""

    theme: Theme
    stage_colours: dict[Stage, str]


def _colour(path: Path, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{path}: {key} must be a colour string such as '#5FA8D3'")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{path}: {key} = {value!r} is not a colour") from None
    return value


def load_theme_file(path: Path) -> CaseTheme:
    """Parse one theme file. Raises :class:`ThemeError` naming the file and the problem
    (TOML syntax with line and column, a missing name or primary colour, a bad colour,
    an unknown stage)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(f"{path}: {exc}") from None
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeError(f"{path}: the theme needs a name, such as name = 'my-theme'")
    if "primary" not in data:
        raise ThemeError(f"{path}: the theme needs a primary colour")
    colours = {key: _colour(path, key, data[key]) for key in _COLOURS if key in data}
    stages: dict[Stage, str] = {}
    for key, value in data.get("stages", {}).items():
        try:
            stage = Stage(key)
        except ValueError:
            known = ", ".join(stage.value for stage in Stage)
            raise ThemeError(f"{path}: unknown stage {key!r} (stages: {known})") from None
        stages[stage] = _colour(path, f"stages.{key}", value)
    theme = Theme(
        name=name.strip(),
        dark=bool(data.get("dark", True)),
        primary=colours["primary"],
        secondary=colours.get("secondary"),
        accent=colours.get("accent"),
        foreground=colours.get("foreground"),
        background=colours.get("background"),
        surface=colours.get("surface"),
        panel=colours.get("panel"),
        success=colours.get("success"),
        warning=colours.get("warning"),
        error=colours.get("error"),
    )
    return CaseTheme(theme, stages)


def bundled_theme(name: str = DEFAULT_THEME) -> CaseTheme:
    """A theme shipped with casewatch, by name. Raises :class:`ThemeError`."""
    with resources.as_file(resources.files("casewatch") / "themes" / f"{name}.toml") as path:
        return load_theme_file(path)
