"""Which cases an automatic refresh asks USCIS about, so the quota goes where it matters.

Stages where the applicant must act soon are checked every interval; cases on their way
more slowly; final ones rarely (``case-stages.md``, "Final stages" and "Stages where the
user must act soon"). The most stale case goes first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from casewatch.finding import is_not_recognized
from casewatch.receipts import ReceiptNumber
from casewatch.stages import Stage
from casewatch.watchlist import WatchedCase

ACT_SOON = frozenset({Stage.ACTION_NEEDED, Stage.INTERVIEW, Stage.BIOMETRICS, Stage.RETURNED})
"""Stages where the applicant must act soon: checked every interval."""

FINAL_FACTOR = 24
"""Final cases are checked this many intervals apart."""

SLOW_FACTOR = 2
"""Other cases are checked this many intervals apart."""


def is_final(case: WatchedCase) -> bool:
    """Denied, withdrawn, or a card or document delivered (``case-stages.md``)."""
    status = case.status
    if status is None:
        return False
    if status.stage in (Stage.DENIED, Stage.WITHDRAWN):
        return True
    return status.stage is Stage.CARD_OR_DOCUMENT and "delivered" in status.title_en.lower()


def refresh_interval(case: WatchedCase, base_minutes: float) -> timedelta:
    """How long ``case`` may go unchecked: ``base_minutes`` for a case never checked or
    in a stage where the applicant must act, :data:`SLOW_FACTOR` times that for most
    cases, :data:`FINAL_FACTOR` times that for final ones."""
    status = case.status
    if status is None or status.stage in ACT_SOON or case.last_error:
        factor = 1
    elif is_final(case):
        factor = FINAL_FACTOR
    else:
        factor = SLOW_FACTOR
    return timedelta(minutes=base_minutes * factor)


def due_cases(
    cases: Iterable[WatchedCase], now: datetime, base_minutes: float
) -> list[ReceiptNumber]:
    """The cases due at ``now`` (an aware datetime), most overdue first: never-checked
    cases, then by how far past their interval they are. A case whose last check failed
    counts its interval from its last answer, when it had one: cases that failed while
    USCIS was unreachable are due as soon as it answers again. But a case USCIS said it
    does not recognize (:func:`~casewatch.finding.is_not_recognized`) counts from that
    last check: its answer will not change soon, and counted from an old answer it
    would come first in every pass, spending the quota of a long watchlist before the
    cases not checked yet (the new-user trial with 100,000 cases)."""
    overdue: list[tuple[timedelta, ReceiptNumber]] = []
    for case in cases:
        if case.checked_at is None:
            overdue.append((timedelta.max, case.receipt_number))
            continue
        outage = case.last_error and not is_not_recognized(case)
        since = (outage and case.answered_at) or case.checked_at
        late = now - since - refresh_interval(case, base_minutes)
        if late >= timedelta(0):
            overdue.append((late, case.receipt_number))
    overdue.sort(key=lambda item: item[0], reverse=True)
    return [receipt for _, receipt in overdue]


def daily_requests(cases: Iterable[WatchedCase], base_minutes: float) -> float:
    """Requests per day that checking every case at its interval would take."""
    day = timedelta(days=1)
    return sum(day / refresh_interval(case, base_minutes) for case in cases)
