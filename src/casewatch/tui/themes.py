"""Theme files: TOML in ``casewatch/themes`` (the top-level ``themes/`` of the repo) and
in the ``themes`` directory beside the user's ``config.toml``.

A theme file gives a name, ``dark``, the colours of :class:`textual.theme.Theme`
(``ansi = true`` and ``ansi_*`` colour names for 16-colour terminals), an optional
``[variables]`` table of Textual theme variables and a ``[stages]`` table with a colour
for each stage. Textual has no theme-file loader, so this is one. The dashboard's choice
of theme is remembered in ``dashboard.toml`` in the user state directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rich.style import Style
from textual.color import Color, ColorParseError
from textual.theme import Theme

from casewatch.files import TomlFileError, read_toml
from casewatch.stages import Stage
from casewatch.tui.dashboard_state import read_dashboard_state, update_dashboard_state

DEFAULT_THEME = "casewatch-dark"
LIGHT_THEME = "casewatch-light"
ANSI_THEME = "casewatch-16"
"""The bundled themes whose stage colours a theme without its own ``[stages]`` borrows:
the 16-colour one for an ANSI theme, else the light or the dark one."""

_COLOURS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
)
_KEYS = {"name", "dark", "ansi", "variables", "stages", *_COLOURS}


class ThemeError(ValueError):
    """A theme file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class CaseTheme:
    """A Textual theme and the style of each stage (the stages the file colours)."""

    theme: Theme
    stage_styles: dict[Stage, Style]


def _colour(path: Path, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{path}: {key} must be a colour string such as '#5FA8D3'")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(
            f"{path}: {key} = {value!r} is not a colour (use '#RRGGBB', a colour name "
            "or an ANSI name such as 'ansi_bright_blue')"
        ) from None
    return value


def _table(path: Path, data: dict[str, object], key: str) -> dict[str, object]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ThemeError(f"{path}: {key} must be a table: [{key}]")
    return table


def _stage_styles(path: Path, table: dict[str, object]) -> dict[Stage, Style]:
    styles: dict[Stage, Style] = {}
    for key, value in table.items():
        try:
            stage = Stage(key)
        except ValueError:
            known = ", ".join(stage.value for stage in Stage)
            raise ThemeError(f"{path}: unknown stage {key!r} (stages: {known})") from None
        colour = Color.parse(_colour(path, f"stages.{key}", value))
        styles[stage] = Style(color=colour.rich_color)
    return styles


def load_theme_file(path: Path) -> CaseTheme:
    """Parse one theme file. Raises :class:`ThemeError` naming the file and the problem
    (TOML syntax with line and column, an unknown key, a missing name or primary colour,
    a bad colour, an unknown stage)."""
    try:
        data = read_toml(path, "the theme file")
    except TomlFileError as exc:
        raise ThemeError(str(exc)) from None
    if data is None:
        raise ThemeError(f"{path}: no such theme file")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ThemeError(f"{path}: unknown key {unknown[0]!r}; known: {', '.join(sorted(_KEYS))}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeError(f"{path}: the theme needs a name, such as name = 'my-theme'")
    if "primary" not in data:
        raise ThemeError(f"{path}: the theme needs a primary colour, such as primary = '#5FA8D3'")
    for flag in ("dark", "ansi"):
        if not isinstance(data.get(flag, False), bool):
            raise ThemeError(f"{path}: {flag} must be true or false")
    colours = {key: _colour(path, key, data[key]) for key in _COLOURS if key in data}
    variables = {
        key: _colour(path, f"variables.{key}", value)
        for key, value in _table(path, data, "variables").items()
    }
    theme = Theme(
        name=name.strip(),
        dark=data.get("dark", True),
        ansi=data.get("ansi", False),
        variables=variables,
        primary=colours["primary"],
        secondary=colours.get("secondary"),
        accent=colours.get("accent"),
        foreground=colours.get("foreground"),
        background=colours.get("background"),
        surface=colours.get("surface"),
        panel=colours.get("panel"),
        boost=colours.get("boost"),
        success=colours.get("success"),
        warning=colours.get("warning"),
        error=colours.get("error"),
    )
    return CaseTheme(theme, _stage_styles(path, _table(path, data, "stages")))


def bundled_theme_files() -> list[Path]:
    """The theme files shipped inside the package, by name."""
    folder = resources.files("casewatch") / "themes"
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml"))


def user_theme_files(config_path: Path | None) -> list[Path]:
    """The ``*.toml`` files of the ``themes`` directory beside ``config_path`` (none when
    there is no such directory)."""
    if config_path is None or not (config_path.parent / "themes").is_dir():
        return []
    return sorted((config_path.parent / "themes").glob("*.toml"))


def load_themes(files: list[Path]) -> tuple[dict[str, CaseTheme], list[ThemeError]]:
    """The themes of ``files`` by name (a later file with the same name wins) and the
    problems of the files that could not be used."""
    themes: dict[str, CaseTheme] = {}
    problems: list[ThemeError] = []
    for path in files:
        try:
            loaded = load_theme_file(path)
        except ThemeError as exc:
            problems.append(exc)
        else:
            themes[loaded.theme.name] = loaded
    return themes, problems


def stage_styles(theme: Theme, themes: dict[str, CaseTheme]) -> dict[Stage, Style]:
    """The style of each stage under ``theme``: its theme file's ``[stages]``, completed
    by the bundled 16-colour, light or dark theme's (for Textual's built-in themes too,
    so a light theme never keeps the dark stage colours)."""
    fallback = ANSI_THEME if theme.ansi else DEFAULT_THEME if theme.dark else LIGHT_THEME
    styles = dict(themes[fallback].stage_styles) if fallback in themes else {}
    own = themes.get(theme.name)
    if own is not None:
        styles.update(own.stage_styles)
    return styles


def remembered_theme(state_dir: Path) -> str | None:
    """The theme last chosen in the dashboard, or None (none chosen, or the state file
    cannot be read: a lost choice is not worth an error)."""
    name = read_dashboard_state(state_dir).get("theme")
    return name if isinstance(name, str) else None


def remember_theme(state_dir: Path, name: str) -> None:
    """Remember ``name`` as the dashboard's theme (the rest of the state file kept).
    Raises :class:`OSError` when the state file cannot be written."""
    update_dashboard_state(state_dir, {"theme": name})
