"""What the dashboard's refreshing means for the user, without the screen: the line
under the table (a pass under way, the next one, or who refreshes), what the end of a
pass means (a spent quota pauses, refused credentials stop, USCIS unreachable waits, a
request ledger that cannot be used is tried again within a minute),
the warning of a quota too short for the watchlist, the alerts of a change (seen here or
by another casewatch) and the hooks that announce it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from casewatch.cases import US_EASTERN, eastern_time
from casewatch.config import Settings
from casewatch.hooks import announce_change, change_message
from casewatch.listing import describe_change
from casewatch.refresh import RefreshProgress, quota_reserve
from casewatch.schedule import daily_requests
from casewatch.uscis.errors import AuthenticationError, QuotaExhausted
from casewatch.uscis.ledger import LedgerError
from casewatch.uscis.limits import RateLimiter
from casewatch.watchlist import ChangeEvent, Changes, WatchedCase, Watchlist

LEDGER_RETRY_S = 60.0
"""Seconds before the next pass tries a request ledger it could not use (Redis down):
nothing is sent meanwhile, and refreshing resumes soon after it is back."""

REFUSED = "refreshing stopped: USCIS refused the credentials"
"""What the quota gauge says, until casewatch is started again, once USCIS refused the
credentials."""


@dataclass(frozen=True, slots=True)
class Toast:
    """A notification: ``message`` under ``title``; ``timeout`` in seconds (None: the
    default)."""

    message: str
    title: str = ""
    severity: Literal["information", "warning", "error"] = "information"
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class PassEnd:
    """What the end of a pass means: ``wait_s``, seconds to the next automatic pass
    (None: no more until casewatch is started again); ``paused_until``, when paused
    automatic refreshes resume (US Eastern; None: not paused); ``stopped``, what the
    quota gauge says for good (empty: nothing); ``toast``, what to tell the user."""

    wait_s: float | None
    paused_until: datetime | None = None
    stopped: str = ""
    toast: Toast | None = None


def pass_end(
    progress: RefreshProgress, *, interval_s: float, outage_over: bool, limiter: RateLimiter
) -> PassEnd:
    """What a pass that ended with ``progress`` means, but one where USCIS was unreachable
    (the outage notice sets that wait): ``interval_s`` (seconds) to the next pass;
    ``outage_over``, a quiet try while USCIS was unreachable got answers (the cases that
    failed meanwhile are asked at once); refused credentials stop the automatic
    refreshes (no retry storm: the credentials must change first); a spent quota
    pauses them until midnight US Eastern (``limiter``'s reset, plus a second)."""
    stopped = progress.stopped_by
    if outage_over:
        return PassEnd(0.001)
    if isinstance(stopped, AuthenticationError):
        return PassEnd(
            None,
            stopped=REFUSED,
            toast=Toast(
                f"{stopped}. Nothing more is sent with these credentials: fix them "
                "(casewatch config shows where they come from) and start casewatch again.",
                "Refresh stopped",
                "error",
                30,
            ),
        )
    if isinstance(stopped, QuotaExhausted):
        return PassEnd(
            limiter.seconds_to_reset() + 1,
            paused_until=limiter.usage().resets_at,
            toast=Toast(str(stopped), "Refresh paused", "warning"),
        )
    if isinstance(stopped, LedgerError):
        retry = f" Trying again in {LEDGER_RETRY_S:g} seconds."
        return PassEnd(
            min(interval_s, LEDGER_RETRY_S),
            toast=Toast(f"{stopped}.{retry}", "Refresh stopped", "error"),
        )
    if stopped is not None:
        return PassEnd(interval_s, toast=Toast(str(stopped), "Refresh stopped", "error"))
    return PassEnd(interval_s)


def refresh_line(
    progress: RefreshProgress | None,
    *,
    running: bool,
    lease_held: bool,
    holder: int | None,
    next_at: float | None,
) -> str | None:
    """The line under the table: ``refreshing 3 of 50`` while a pass runs (``progress``),
    who refreshes when another process holds the lease (``holder``, its process id),
    else when the next pass is due (``next_at``, Unix time in seconds, shown US
    Eastern); None when there is nothing new to say."""
    if running and progress is not None:
        return f"refreshing {progress.done} of {progress.total}"
    if not lease_held:
        return "refreshed by another casewatch" + (f" (pid {holder})" if holder else "")
    if next_at is not None:
        due = datetime.fromtimestamp(next_at, US_EASTERN)
        return f"next refresh {eastern_time(due, with_date=False)}"
    return None


def quota_warning(settings: Settings, watchlist: Watchlist) -> Toast | None:
    """The warning that the cases need more requests a day, at the configured refresh
    interval, than the quota leaves for automatic refreshes (past its reserve for
    checks of one case); None when it is enough."""
    environment = settings.environment
    usable = environment.daily_quota - quota_reserve(environment.daily_quota)
    needed = daily_requests(watchlist.cases.values(), settings.refresh_minutes)
    if needed <= usable:
        return None
    return Toast(
        f"At one refresh every {settings.refresh_minutes:g} minutes, "
        f"{len(watchlist):,} cases need about {needed:,.0f} requests a day; "
        f"the quota allows {usable:,} for automatic refreshes. Cases are checked "
        "less often, the most stale first, so each gets its share.",
        "More cases than the daily quota",
        "warning",
        30,
    )


def change_alert(case: WatchedCase, event: ChangeEvent) -> Toast | None:
    """The alert of a change seen by this process; None for the first status of a newly
    added case (recorded, not alerted)."""
    if event.first:
        return None
    title, body = change_message(case, event)
    return Toast(body, title, timeout=15)


def check_result(
    before: WatchedCase, after: WatchedCase | None, progress: RefreshProgress
) -> Toast | None:
    """What a check of one case asked with ``r`` found (issue 13, point 12): "no change"
    with the status USCIS gave again, the first status of a case (in the words of
    :func:`casewatch.listing.describe_change`), or the error, comparing the case
    ``before`` the check with the case ``after`` it (None: removed meanwhile). None when
    another toast says it: a change (its change alert) or a check stopped (a spent
    quota, refused credentials)."""
    if after is None or progress.stopped_by is not None or progress.done == 0:
        return None
    label = f" ({after.label})" if after.label else ""
    title = f"Checked {after.receipt_number}{label}"
    if after.last_error:
        return Toast(f"The check failed: {after.last_error}", title, "warning")
    new = [event for event in after.events if event not in before.events]
    if new and not new[-1].first:
        return None  # its change alert says it (change_alert)
    if new:
        return Toast(describe_change(after, new[-1]), title, timeout=10)
    status = after.status
    said = f"{status.title_en} (USCIS: {status.changed_on() or 'no date'})" if status else ""
    return Toast(f"No change: {said}", title, timeout=5)


def changes_seen_elsewhere(changes: Changes, cases: dict[str, WatchedCase]) -> Iterator[Toast]:
    """A toast for each change that another casewatch saw, in what a save or a reload
    brought (``changes``: case key to the case before, None for a new case) into
    ``cases`` (its hooks ran there, not here)."""
    for key, before in changes.items():
        case = cases.get(key)
        if case is None:
            continue
        known = before.events if before is not None else ()
        for event in case.events:
            if event not in known and not event.first:
                title, body = change_message(case, event)
                yield Toast(body, f"{title} (seen by another casewatch)", timeout=15)


async def run_hooks(settings: Settings, case: WatchedCase, event: ChangeEvent) -> list[Toast]:
    """Run the ``on_change`` command and send the notifications configured for a change;
    a toast for each that failed."""
    problems = await announce_change(
        settings.on_change, settings.notify_urls, case, event, settings.response_days
    )
    return [Toast(problem, "Change alert failed", "warning") for problem in problems]
