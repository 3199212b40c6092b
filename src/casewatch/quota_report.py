"""``casewatch quota``: today's use of the daily quota, read from the ledger that every
casewatch process with the same environment and credentials shares (the dashboard's
gauge reads the same one). It sends no request to USCIS.

Rules from ``uscis-api.md`` ("Hosts and environments"): the quota is counted per US
Eastern day and resets at midnight in New York; automatic refreshes keep a reserve for
manual checks (:func:`casewatch.refresh.quota_reserve`).
"""

from __future__ import annotations

from typing import Any

from casewatch.cases import eastern_time
from casewatch.config import Settings
from casewatch.refresh import quota_reserve
from casewatch.uscis.quota import QuotaUsage


def quota_report(settings: Settings, usage: QuotaUsage, now: float) -> str:
    """``usage`` at Unix time ``now`` (seconds) as text: the figures of
    :meth:`QuotaUsage.summary` (used, left, the time to the reset and any Retry-After
    hold), then the US Eastern day and the environment, the reserve, when the quota
    resets (US Eastern) and the ledger file (shared by every casewatch with the same
    environment, host and credentials)."""
    reserve = quota_reserve(usage.daily_quota)
    environment = settings.environment
    return "\n".join(
        (
            usage.summary(now),
            f"day        {usage.day} (US Eastern), {environment.name} at {environment.host_url}",
            f"reserve    {reserve:,} requests kept for manual checks: automatic refreshes "
            f"stop with {reserve:,} left",
            f"resets at  {eastern_time(usage.resets_at)}",
            f"ledger     {settings.ledger_where}",
        )
    )


def quota_json(settings: Settings, usage: QuotaUsage, now: float) -> dict[str, Any]:
    """``usage`` at Unix time ``now`` (seconds) as a JSON-ready object: environment, host,
    day (the US Eastern date), used, daily_quota, remaining, reserve (requests), resets_at
    and held_until (ISO 8601 US Eastern; held_until null when no hold runs),
    seconds_to_reset (whole seconds) and ledger (the file's path)."""
    held = usage.held_until is not None and now < usage.held_until.timestamp()
    return {
        "environment": settings.environment.name,
        "host": settings.environment.host_url,
        "day": usage.day.isoformat(),
        "used": usage.used,
        "daily_quota": usage.daily_quota,
        "remaining": usage.remaining,
        "reserve": quota_reserve(usage.daily_quota),
        "resets_at": usage.resets_at.isoformat(),
        "seconds_to_reset": max(0, int(usage.resets_at.timestamp() - now)),
        "held_until": usage.held_until.isoformat() if held and usage.held_until else None,
        "ledger": settings.ledger_where,
    }
