"""The daily quota: US Eastern days, when a day's quota resets, what is counted, and the
reserve that automatic refreshes leave for manual checks.

Rules from ``uscis-api.md`` ("Hosts and environments"): the daily quota resets at
midnight US Eastern (America/New_York, UTC-4 in summer and UTC-5 in winter).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from casewatch.cases import US_EASTERN
from casewatch.uscis.errors import QuotaExhausted


def eastern_day(timestamp: float) -> date:
    """The US Eastern calendar date of a Unix timestamp (seconds)."""
    return datetime.fromtimestamp(timestamp, US_EASTERN).date()


def quota_reset_at(day: date) -> datetime:
    """When the quota of US Eastern date ``day`` resets: the next midnight in New York.

    An aware datetime; a day is 23 or 25 hours long when daylight saving time changes.
    """
    following = day + timedelta(days=1)
    return datetime(following.year, following.month, following.day, tzinfo=US_EASTERN)


_kept_reserve: ContextVar[int] = ContextVar("casewatch_kept_reserve", default=0)


class QuotaReserved(QuotaExhausted):
    """Only the reserve of today's quota is left, and it is kept for manual checks."""

    summary = "Automatic refreshes are paused to keep the rest of today's quota for manual checks"


@contextmanager
def keeping_reserve(requests: int) -> Iterator[None]:
    """Within this block (in this task), :meth:`RateLimiter.acquire` refuses with
    :class:`QuotaReserved` once only ``requests`` requests are left today: automatic
    refreshes leave them for manual checks."""
    token = _kept_reserve.set(requests)
    try:
        yield
    finally:
        _kept_reserve.reset(token)


def kept_reserve() -> int:
    """The requests that the current task keeps for manual checks (set by
    :func:`keeping_reserve`; 0 outside it)."""
    return _kept_reserve.get()


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """Requests counted on US Eastern date ``day`` against ``daily_quota``; ``held_until``
    (US Eastern) when USCIS asked, with ``Retry-After``, that nothing be sent before then."""

    day: date
    used: int
    daily_quota: int
    resets_at: datetime
    held_until: datetime | None = None

    @property
    def remaining(self) -> int:
        """Requests left today (never below zero)."""
        return max(0, self.daily_quota - self.used)
