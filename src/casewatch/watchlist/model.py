"""The watchlist's cases as casewatch holds them in memory: a watched case, its change
events, and what counts as a change of status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from casewatch.cases import CaseStatus, one_line
from casewatch.receipts import ReceiptNumber


class WatchlistError(ValueError):
    """A watchlist file that cannot be read; the message names the file and the problem."""


class DuplicateReceipt(ValueError):
    """The receipt number is already on the watchlist."""


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A change of a case's status title, description or history.

    Both clocks: ``changed_at`` is when USCIS made the change (its ``modifiedDate``, else
    the newest history date; None when it says neither), ``seen_at`` when casewatch saw it
    (aware datetimes). ``fields`` names what changed (``title``, ``description``,
    ``history``); ``first`` marks the first status seen for a newly added case, which is
    recorded but never alerted.
    """

    seen_at: datetime
    changed_at: datetime | None
    previous_title: str
    title: str
    fields: tuple[str, ...]
    first: bool = False


@dataclass(frozen=True, slots=True)
class WatchedCase:
    """One case on the watchlist.

    ``added_at``, ``checked_at`` and ``answered_at`` are aware datetimes:
    ``checked_at`` is the last check, answered or failed (what the refresh schedule
    counts from), ``answered_at`` the last check USCIS answered, so the age of
    ``status`` (None when no answer was ever recorded, or an older watchlist did not
    say). ``status`` is the last status USCIS reported (None before the first answer);
    ``last_error`` is the message of the last check when it failed (then at
    ``checked_at``), empty when it succeeded; ``events`` are its changes, oldest first;
    ``unseen`` marks a change the user has not looked at yet. ``notice_date`` is the
    date (US Eastern) of the notice the current status announces when it asks for an
    answer, recorded when the case entered that status (:mod:`casewatch.deadlines`);
    ``response_due`` the response due date the user gave from the notice, which wins
    over casewatch's estimate; both are cleared when the status title changes.
    """

    receipt_number: ReceiptNumber
    added_at: datetime
    label: str = ""
    status: CaseStatus | None = None
    checked_at: datetime | None = None
    last_error: str = ""
    events: tuple[ChangeEvent, ...] = ()
    unseen: bool = False
    answered_at: datetime | None = None
    notice_date: date | None = None
    response_due: date | None = None


def detect_change(
    previous: CaseStatus | None, status: CaseStatus, seen_at: datetime
) -> ChangeEvent | None:
    """The change from ``previous`` to ``status`` seen at ``seen_at``, or None when the
    title, the description and the history mean the same (:meth:`CaseStatus.meaning`:
    same-day entries reordered, a null history turned empty, HTML or whitespace alone
    are no change). With no ``previous`` status, the event is the case's ``first`` one.
    """
    if previous is None:
        fields: tuple[str, ...] = ("title",)
    else:
        before, after = previous.meaning(), status.meaning()
        fields = tuple(name for name, value in after.items() if before[name] != value)
    if not fields:
        return None
    return ChangeEvent(
        seen_at=seen_at,
        changed_at=status.last_changed,
        previous_title=previous.title_en if previous else "",
        title=status.title_en,
        fields=fields,
        first=previous is None,
    )


def one_line_label(label: str) -> str:
    """``label`` as casewatch keeps it: one line of printable text, spaces trimmed
    (:func:`casewatch.cases.one_line`)."""
    return one_line(label)
