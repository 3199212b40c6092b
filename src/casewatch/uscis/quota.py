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


def format_duration(seconds: float) -> str:
    """A countdown such as ``9h 12m`` or ``4m 05s`` (seconds, rounded down)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """Requests counted on US Eastern date ``day`` against ``daily_quota``; ``held_until``
    (US Eastern) when USCIS asked, with ``Retry-After``, that nothing be sent before then.
    ``last_spike_arrest`` and ``last_retry_after`` (US Eastern) are the last spike arrest
    and the last ``Retry-After`` any process sharing the ledger met, whatever the day;
    ``last_retry_after_s`` the seconds that ``Retry-After`` asked for."""

    day: date
    used: int
    daily_quota: int
    resets_at: datetime
    held_until: datetime | None = None
    last_spike_arrest: datetime | None = None
    last_retry_after: datetime | None = None
    last_retry_after_s: float | None = None

    @property
    def remaining(self) -> int:
        """Requests left today (never below zero)."""
        return max(0, self.daily_quota - self.used)

    def summary(self, now: float) -> str:
        """The figures as the quota gauge and ``casewatch quota`` give them, at Unix time
        ``now`` (seconds): ``1,234 / 150,000 today · 148,766 left · resets in 9h 12m``,
        then, while a hold USCIS asked for runs, ``· USCIS asked to wait until 10:15:20
        ET`` (Retry-After). Times are US Eastern (``uscis-api.md``)."""
        to_reset = self.resets_at.timestamp() - now
        figures = (
            f"{self.used:,} / {self.daily_quota:,} today · {self.remaining:,} left · "
            f"resets in {format_duration(to_reset)}"
        )
        if self.held_until is not None and now < self.held_until.timestamp():
            figures += f" · USCIS asked to wait until {self.held_until:%H:%M:%S} ET"
        return figures
