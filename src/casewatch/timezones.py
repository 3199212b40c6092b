"""The time zone every time is shown in (the ``timezone`` setting) and the one function
that writes a time in it, for the dashboard, the verbs and the exports alike.

The default is US Eastern (America/New_York), USCIS's own: USCIS's dates and the daily
quota are US Eastern (``uscis-api.md``, "Hosts and environments"; issue 13, point 10).
Dates that are USCIS's (a case's ``modifiedDate``, its history) stay dates: they are
never converted. Standard library only.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "America/New_York"
"""The ``timezone`` setting when none is given: US Eastern, USCIS's own."""


def parse_timezone(name: str) -> ZoneInfo:
    """The IANA time zone named ``name`` (``America/Chicago``, ``Europe/Madrid``,
    ``UTC``), as the system's time zone database knows it.

    Raises ValueError, whose message names the bad value and gives examples, for a name
    the database does not know (``Madrid``, ``utc``, an empty name, a path).
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"timezone {name!r} is not a time zone: use an IANA name such as "
            f'"{DEFAULT_TIMEZONE}" (US Eastern, USCIS\'s own and the default), '
            '"America/Los_Angeles", "Europe/Madrid" or "UTC"'
        ) from None


def format_time(
    moment: datetime, zone: tzinfo, *, with_date: bool = True, seconds: bool = False
) -> str:
    """``moment`` (an aware datetime) in ``zone`` to the minute (``seconds``: to the
    second), with the zone's abbreviation so that a time standing alone says its zone:
    ``2026-11-29 09:30 EST``, or ``09:30 EST`` without the date. ``zone`` is the
    ``timezone`` setting (:attr:`casewatch.config.Settings.timezone`)."""
    shown = moment.astimezone(zone)
    clock = f"{shown:%H:%M:%S}" if seconds else f"{shown:%H:%M}"
    return f"{shown:%Y-%m-%d} {clock} {shown:%Z}" if with_date else f"{clock} {shown:%Z}"


def format_iso(moment: datetime, zone: tzinfo, *, timespec: str = "auto") -> str:
    """``moment`` (an aware datetime) in ``zone`` as ISO 8601 with its offset
    (``2026-11-29T09:30:12-05:00``; ``timespec`` as :meth:`datetime.isoformat` takes it,
    ``"minutes"`` for ``2026-11-29T09:30-05:00``): the times of the exports and of
    ``--json``."""
    return moment.astimezone(zone).isoformat(timespec=timespec)
