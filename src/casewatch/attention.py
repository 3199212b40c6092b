"""What needs attention today (issue 14, point 3): the cases a paralegal must look at,
each with the reason, in the order she deals with them. A pure function of the cases and
the time, for ``casewatch attention`` and the dashboard alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from casewatch.cases import US_EASTERN, calendar_days, one_line
from casewatch.config import DEFAULT_QUIET_DAYS
from casewatch.deadlines import ResponseDays, ResponseDue, response_due
from casewatch.hooks import change_message
from casewatch.schedule import is_final
from casewatch.stages import Stage
from casewatch.watchlist import WatchedCase

FAILING_FOR = timedelta(days=1)
"""How long checks of a case may fail before it needs attention (issue 14, point 3)."""


class Reason(StrEnum):
    """Why a case needs attention, in the order the list gives them (issue 14, point 3).
    The values are shown and put in JSON."""

    RESPONSE_DUE = "response due"
    UNSEEN = "change not viewed"
    UNKNOWN_TITLE = "status title not recognized"
    FAILING = "checks failing"
    QUIET = "no change from USCIS"


@dataclass(frozen=True, slots=True)
class Attention:
    """One entry of the list: the case, the reason, and ``why``, the reason in words for
    this case; ``due`` is the response deadline of a :attr:`Reason.RESPONSE_DUE` entry."""

    case: WatchedCase
    reason: Reason
    why: str
    due: ResponseDue | None = None
    overdue: bool = False

    def to_json(self, now: datetime) -> dict[str, Any]:
        """A JSON-ready object: receipt_number, label, client, form_type, status (the title),
        reason, why, and response_due (:meth:`ResponseDue.to_json`, null but for a
        response due)."""
        status = self.case.status
        return {
            "receipt_number": self.case.receipt_number.value,
            "label": self.case.label,
            "client": self.case.client,
            "form_type": status.form_type if status else "",
            "status": status.title_en if status else "",
            "reason": self.reason.value,
            "why": self.why,
            "response_due": self.due.to_json(_today(now)) if self.due else None,
        }

    def describe(self) -> str:
        """Why, as ``casewatch attention`` and the dashboard's attention view say it: a
        response due as :meth:`ResponseDue.describe` says it (``OVERDUE`` before it once
        passed), the other entries after their reason (``checks failing: ...``)."""
        if self.reason is Reason.RESPONSE_DUE:
            return f"OVERDUE {self.why}" if self.overdue else self.why
        return f"{self.reason.value}: {self.why}"


def _today(now: datetime) -> date:
    return now.astimezone(US_EASTERN).date()


def _ago(delta: timedelta) -> str:
    days = delta.days
    return f"{days} day{'s' * (days != 1)}" if days else "less than a day"


def needs_attention(
    cases: Iterable[WatchedCase],
    now: datetime,
    *,
    days: ResponseDays | None = None,
    quiet_days: int = DEFAULT_QUIET_DAYS,
) -> list[Attention]:
    """What needs attention at ``now`` (an aware datetime), in this order (issue 14,
    point 3): responses due (:func:`casewatch.deadlines.response_due` with ``days``;
    soonest first, so overdue ones lead), changes not viewed (the newest first), status
    titles casewatch does not recognize (stage unknown), cases whose checks have failed
    for more than :data:`FAILING_FOR` since their last answer (or since added, never
    answered; the longest first), and cases with no change from USCIS for more than
    ``quiet_days`` days (USCIS's last change, else the last one casewatch saw; final
    stages and cases waiting on a response excluded; the longest first). A case may be
    listed once for each reason that applies. Never raises.
    """
    today = _today(now)
    dues: list[tuple[date, Attention]] = []
    unseen: list[tuple[datetime, Attention]] = []
    unknown: list[Attention] = []
    failing: list[tuple[timedelta, Attention]] = []
    quiet: list[tuple[timedelta, Attention]] = []
    for case in cases:
        status = case.status
        due = response_due(case, days)
        if due is not None:
            why = due.describe(today)
            overdue = due.days_left(today) < 0
            dues.append((due.due, Attention(case, Reason.RESPONSE_DUE, why, due, overdue)))
        if case.unseen and case.events:
            event = case.events[-1]
            why = f"changed: {change_message(case, event)[1]}"
            unseen.append((event.seen_at, Attention(case, Reason.UNSEEN, why)))
        if status is not None and status.stage is Stage.UNKNOWN:
            why = f"casewatch does not know the title {status.title_en!r}"
            unknown.append(Attention(case, Reason.UNKNOWN_TITLE, why))
        failing_for = now - (case.answered_at or case.added_at)
        if case.last_error and failing_for > FAILING_FOR:
            why = f"no answer for {_ago(failing_for)}: {one_line(case.last_error)}"
            failing.append((failing_for, Attention(case, Reason.FAILING, why)))
        if status is None or due is not None or is_final(case):
            continue
        changed = status.last_changed or (case.events[-1].seen_at if case.events else None)
        if changed is not None and now - changed > timedelta(days=quiet_days):
            quiet_for = calendar_days(changed, now)  # as the table's "In status" counts
            since = f"{changed.astimezone(US_EASTERN):%Y-%m-%d}"
            plural = "s" * (quiet_for != 1)
            why = f"USCIS has not changed it for {quiet_for} day{plural}, since {since}"
            quiet.append((now - changed, Attention(case, Reason.QUIET, why)))
    dues.sort(key=lambda item: item[0])
    unseen.sort(key=lambda item: item[0], reverse=True)
    failing.sort(key=lambda item: item[0], reverse=True)
    quiet.sort(key=lambda item: item[0], reverse=True)
    return [
        *(entry for _, entry in dues),
        *(entry for _, entry in unseen),
        *unknown,
        *(entry for _, entry in failing),
        *(entry for _, entry in quiet),
    ]


def format_attention(entries: Iterable[Attention]) -> str:
    """The list as ``casewatch attention`` prints it: one line per entry, receipt
    number, client and label in parentheses when it has them, then why
    (:meth:`Attention.describe`)."""
    lines = []
    for entry in entries:
        case = entry.case
        label = f" ({case.names})" if case.names else ""
        lines.append(f"{case.receipt_number}{label}  {entry.describe()}")
    return "\n".join(lines)
