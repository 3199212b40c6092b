"""How the dashboard writes a case's values: the stage with its symbol, dates, days in a
status, ages of data and countdowns. Pure functions: the table, the drawer and the status
bar share them."""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text

from casewatch.cases import calendar_days
from casewatch.finding import NOT_RECOGNIZED
from casewatch.stages import Stage

STAGE_SYMBOLS: dict[Stage, str] = {
    Stage.RECEIVED: "○",
    Stage.BIOMETRICS: "◐",
    Stage.IN_REVIEW: "◔",
    Stage.TRANSFERRED: "⇄",
    Stage.ACTION_NEEDED: "!",
    Stage.INTERVIEW: "◆",
    Stage.APPROVED: "✔",
    Stage.CARD_OR_DOCUMENT: "✉",
    Stage.RETURNED: "↩",
    Stage.DENIED: "✘",
    Stage.WITHDRAWN: "⊘",
    Stage.UNKNOWN: "?",
}
"""A symbol per stage, so stages stay distinguishable without colour."""


def stage_text(stage: Stage, styles: dict[Stage, Style]) -> Text:
    """The stage as a ``symbol name`` cell in the theme's style of the stage: the symbol
    and the word keep stages apart without colour (``NO_COLOR``)."""
    return Text(f"{STAGE_SYMBOLS[stage]} {stage.value}", style=styles.get(stage, ""))


def not_recognized_text(styles: dict[Stage, Style]) -> Text:
    """The stage cell of a case USCIS does not recognize (no status, its last check
    answered 404): ``? not recognized`` in the style of the unknown stage, so that it
    does not read as a case still loading."""
    return Text(
        f"{STAGE_SYMBOLS[Stage.UNKNOWN]} {NOT_RECOGNIZED}", style=styles.get(Stage.UNKNOWN, "")
    )


def format_date(moment: datetime | None) -> str:
    """``YYYY-MM-DD`` in the moment's own zone (US Eastern for USCIS dates), or a dash."""
    return "—" if moment is None else f"{moment:%Y-%m-%d}"


def format_days(since: datetime | None, now: datetime) -> str:
    """Whole US Eastern calendar days from ``since`` to ``now`` (:func:`calendar_days`),
    such as ``812d``; a dash when ``since`` is unknown."""
    return "—" if since is None else f"{calendar_days(since, now)}d"


_AGE_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"))


def _age(since: datetime, now: datetime) -> tuple[int, str] | None:
    """How old data from ``since`` is at ``now``: (count, unit) in the largest unit of
    which there is a whole one; None under a minute."""
    seconds = (now - since).total_seconds()
    for size, unit in _AGE_UNITS:
        if seconds >= size:
            return int(seconds // size), unit
    return None


def format_age(since: datetime | None, now: datetime) -> str:
    """The age of data from ``since`` for a table cell: ``now`` (under a minute),
    ``12m``, ``5h``, ``3d``; ``—`` when unknown. Ages need no time zone."""
    if since is None:
        return "—"
    age = _age(since, now)
    return "now" if age is None else f"{age[0]}{age[1][0]}"


def age_in_words(since: datetime, now: datetime) -> str:
    """The age of data from ``since``: ``just now``, ``12 minutes ago``, ``2 days ago``."""
    age = _age(since, now)
    if age is None:
        return "just now"
    count, unit = age
    return f"{count} {unit}{'s' if count != 1 else ''} ago"
