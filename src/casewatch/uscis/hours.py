"""Opening hours of the USCIS sandbox (standard library only).

uscis-api.md, "Hosts and environments": the sandbox (``api-int.uscis.gov``) is "open
Mon-Fri 07:00-20:00 US Eastern, otherwise 503" [seen]. US Eastern is the
America/New_York zone, so the hours follow daylight saving time (UTC-4 in summer, UTC-5
in winter) even though the 503 message itself says "EST". Federal holidays are not
documented as closed and are treated as ordinary weekdays. Production has no such hours.

This module is shared by the client (``casewatch.uscis``), to explain a 503, and by the
built-in sandbox (``casewatch.sandbox``), to enforce the hours; it imports nothing else.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "SANDBOX_CLOSES",
    "SANDBOX_OPENS",
    "US_EASTERN",
    "next_sandbox_opening",
    "sandbox_open",
]

US_EASTERN = ZoneInfo("America/New_York")
"""The zone of the sandbox hours (uscis-api.md, "Hosts and environments")."""

SANDBOX_OPENS = time(7, 0)
"""Local US Eastern time at which the sandbox opens, Monday to Friday (inclusive)."""

SANDBOX_CLOSES = time(20, 0)
"""Local US Eastern time at which the sandbox closes (exclusive: 20:00:00 is closed)."""

_FRIDAY = 4  # datetime.weekday(): Monday is 0


def _eastern(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"moment must be a timezone-aware datetime, got the naive {moment.isoformat()}"
        )
    return moment.astimezone(US_EASTERN)


def sandbox_open(moment: datetime) -> bool:
    """Whether the USCIS sandbox answers at ``moment``.

    uscis-api.md ("Hosts and environments"): open Mon-Fri 07:00-20:00 US Eastern,
    otherwise 503. The interval is half-open: 07:00:00 is open, 19:59:59.999999 is open,
    20:00:00 is closed.

    Args:
        moment: any timezone-aware datetime; it is converted to America/New_York.

    Raises:
        ValueError: ``moment`` is naive (without a zone it names no instant).
    """
    local = _eastern(moment)
    return local.weekday() <= _FRIDAY and SANDBOX_OPENS <= local.time() < SANDBOX_CLOSES


def next_sandbox_opening(moment: datetime) -> datetime:
    """The earliest instant at or after ``moment`` when the USCIS sandbox is open.

    uscis-api.md ("Hosts and environments"): open Mon-Fri 07:00-20:00 US Eastern,
    otherwise 503. When the sandbox is closed this is the next 07:00 US Eastern on a
    weekday (Friday 20:00 gives Monday 07:00); when it is open it is ``moment`` itself,
    so ``next_sandbox_opening(m) == m`` exactly when ``sandbox_open(m)``, and waiting
    until the result never waits during opening hours. Use ``sandbox_open`` first to
    tell an off-hours 503 from an outage.

    Args:
        moment: any timezone-aware datetime.

    Returns:
        An aware datetime in America/New_York (07:00 local time never falls in a daylight
        saving gap or fold: the clocks change at 02:00 on Sundays).

    Raises:
        ValueError: ``moment`` is naive.
    """
    local = _eastern(moment)
    if sandbox_open(local):
        return local
    day = local.date()
    if local.time() >= SANDBOX_OPENS:  # today's opening is past (or it is after closing)
        day += timedelta(days=1)
    while day.weekday() > _FRIDAY:
        day += timedelta(days=1)
    return datetime.combine(day, SANDBOX_OPENS, tzinfo=US_EASTERN)
