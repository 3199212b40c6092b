"""Response deadlines: the status titles that ask the applicant to answer, the date of
the notice, and the response due date casewatch estimates from it (issue 14, point 4).

USCIS's API says that a notice was sent, never by when to answer it: the notice itself
has the date. casewatch estimates it from USCIS's usual periods plus 3 days for mailing
(a request for evidence: 84 days; a notice of intent to deny, revoke, rescind or
terminate: 30 days; 8 CFR 103.2(b)(8) and 103.8(b)) and always shows it as an estimate,
until the user gives the notice's own date (``casewatch edit --due``), which wins. Dates
are US Eastern calendar dates, as USCIS's are (``uscis-api.md``). Pure functions: they
take a case and the day, and never read the clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from casewatch.cases import US_EASTERN, CaseStatus, parse_uscis_date, strip_html
from casewatch.stages import Stage, classify_stage, normalize_title

if TYPE_CHECKING:
    from casewatch.watchlist import WatchedCase


class NoticeKind(StrEnum):
    """What kind of notice asks for the answer; the values are shown and put in JSON."""

    REQUEST_FOR_EVIDENCE = "request for evidence"
    NOTICE_OF_INTENT = "notice of intent"
    CONTINUATION_NOTICE = "continuation notice"


_RFE = NoticeKind.REQUEST_FOR_EVIDENCE
_INTENT = NoticeKind.NOTICE_OF_INTENT
_CONTINUATION = NoticeKind.CONTINUATION_NOTICE

RESPONSE_TITLES: tuple[tuple[str, NoticeKind], ...] = (
    # The "action needed" titles of case-stages.md and of casewatch.stages.TITLES that
    # ask the applicant to answer a notice by a date. Left out: "Form G-28 Was Rejected
    # Because It Was Improperly Filed" (the representative files a new form; no notice
    # to answer).
    ("Request for Evidence Was Sent", _RFE),  # issue 14's wording of a recent title
    ("Request for Additional Evidence Was Sent", _RFE),
    ("Request for Additional Evidence Was Mailed", _RFE),
    ("Request for Initial Evidence Was Sent", _RFE),
    ("Request for Initial Evidence Was Mailed", _RFE),
    ("Request for Initial and Additional Evidence Was Mailed", _RFE),
    ("Notice Of Intent To Deny Was Sent", _INTENT),
    ("Intent to Revoke Notice Was Sent", _INTENT),
    ("CWR Notice of Intent to Revoke Sent", _INTENT),
    ("Intent To Rescind Notice Was Mailed", _INTENT),
    ("Notice Of USCIS' Intent To Terminate My Status Was Mailed", _INTENT),
    ("Continuation Notice Was Mailed", _CONTINUATION),
)
"""Every known status title that asks for an answer, with the kind of its notice. A
title not here that :func:`casewatch.stages.classify_stage` puts under action needed is
judged by its words (:func:`notice_kind`)."""

REMINDER_BEFORE = timedelta(days=14)
"""How long before a response due date ``casewatch calendar`` reminds of it (issue 14,
point 4)."""

_KIND_BY_TITLE = {normalize_title(title): kind for title, kind in RESPONSE_TITLES}

_KIND_KEYWORDS: tuple[tuple[re.Pattern[str], NoticeKind], ...] = (
    (re.compile(r"\bintent\b|\bintends? to\b"), _INTENT),
    (re.compile(r"\bevidence\b"), _RFE),
    (re.compile(r"\bcontinuation\b"), _CONTINUATION),
)


@dataclass(frozen=True, slots=True)
class ResponseDays:
    """Days from the notice's date to the estimated response due date, by kind of
    notice: USCIS's usual period plus 3 days for mailing (settings
    ``request_for_evidence_days``, ``notice_of_intent_days``,
    ``continuation_notice_days`` in ``config.toml``). A Form N-14 continuation notice
    usually gives 30 days, as a notice of intent does."""

    request_for_evidence: int = 87
    notice_of_intent: int = 33
    continuation_notice: int = 33

    def of(self, kind: NoticeKind) -> int:
        """The days allowed to answer a notice of ``kind``."""
        return {
            _RFE: self.request_for_evidence,
            _INTENT: self.notice_of_intent,
            _CONTINUATION: self.continuation_notice,
        }[kind]


def notice_kind(title: str) -> NoticeKind | None:
    """The kind of notice a status title announces, or None when it asks for no answer.

    A title of :data:`RESPONSE_TITLES` (compared as
    :func:`casewatch.stages.normalize_title` reads titles); else, for a title the stage
    table or its fallback puts under action needed, the first of "intent", "evidence",
    "continuation" in its words. Never raises."""
    known = _KIND_BY_TITLE.get(normalize_title(title))
    if known is not None or classify_stage(title) is not Stage.ACTION_NEEDED:
        return known
    normalized = normalize_title(title)
    return next((kind for pattern, kind in _KIND_KEYWORDS if pattern.search(normalized)), None)


_MONTH_DAY_YEAR = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December)\s+\d{1,2},\s+\d{4}\b",
    re.IGNORECASE,
)


def date_in_text(text: str) -> date | None:
    """The first date written out in a USCIS description ("On March 5, 2026, we sent
    you a request for evidence..."), HTML removed; None when there is none, or it is
    not a plausible date (:func:`casewatch.cases.parse_uscis_date`). Never raises."""
    for found in _MONTH_DAY_YEAR.finditer(strip_html(text)):
        day = parse_uscis_date(" ".join(found.group().title().split()))
        if day is not None:
            return day
    return None


def notice_date(status: CaseStatus, seen_at: datetime) -> date:
    """The date of the notice ``status`` announces (a US Eastern date): USCIS's
    ``modifiedDate``, else a date in the description (:func:`date_in_text`), else the
    day casewatch saw the change (``seen_at``, an aware datetime). Issue 14, point 4."""
    if status.modified is not None:
        return status.modified.astimezone(US_EASTERN).date()
    return date_in_text(status.description_en) or seen_at.astimezone(US_EASTERN).date()


def recorded_notice(status: CaseStatus, seen_at: datetime) -> date | None:
    """What casewatch records when a case enters ``status`` at ``seen_at``: its
    :func:`notice_date` when its title asks for an answer (:func:`notice_kind`), else
    None."""
    return None if notice_kind(status.title_en) is None else notice_date(status, seen_at)


@dataclass(frozen=True, slots=True)
class ResponseDue:
    """The open response deadline of a case: the notice's kind and date, and ``due``,
    the response due date (US Eastern dates). ``estimated`` is True when casewatch
    estimated ``due`` from :class:`ResponseDays`, False when the user gave the notice's
    own date."""

    receipt_number: str
    form_type: str
    kind: NoticeKind
    notice_date: date
    due: date
    estimated: bool
    names: str = ""
    """The case's client and label (:attr:`WatchedCase.names`), empty without them."""

    @property
    def uid(self) -> str:
        """The iCalendar UID of this deadline: one per case and notice (receipt number and
        notice date), the same whatever its due date, so a calendar imported again
        updates the event instead of adding another."""
        return f"{self.receipt_number}-{self.notice_date:%Y%m%d}@casewatch"

    def days_left(self, today: date) -> int:
        """Days from ``today`` to the due date: negative once it has passed."""
        return (self.due - today).days

    def describe(self, today: date) -> str:
        """How casewatch says it: ``response due ≈ 2026-05-31, in 12 days — the notice has
        the exact date`` for an estimate, ``response due 2026-05-28 (from the notice),
        in 9 days`` for a date the user gave; ``overdue by N days`` once passed."""
        left = self.days_left(today)
        when = (
            "today"
            if left == 0
            else f"in {left} day{'s' * (left != 1)}"
            if left > 0
            else f"overdue by {-left} day{'s' * (left != -1)}"
        )
        if self.estimated:
            return f"response due ≈ {self.due}, {when} — the notice has the exact date"
        return f"response due {self.due} (from the notice), {when}"

    def to_json(self, today: date) -> dict[str, object]:
        """A JSON-ready object: ``kind``, ``notice_date`` and ``due`` (ISO dates),
        ``estimated``, ``days_left`` (negative when overdue), ``overdue``."""
        left = self.days_left(today)
        return {
            "kind": self.kind.value,
            "notice_date": self.notice_date.isoformat(),
            "due": self.due.isoformat(),
            "estimated": self.estimated,
            "days_left": left,
            "overdue": left < 0,
        }


def response_due(case: WatchedCase, days: ResponseDays | None = None) -> ResponseDue | None:
    """The open response deadline of ``case``, or None when its status asks for no
    answer (none yet, or the case moved on: the deadline is closed).

    The notice's date is the one recorded when the case entered its status
    (``WatchedCase.notice_date``); for a case stored before casewatch recorded it, it
    is found again from the status (:func:`notice_date`), with the day casewatch saw
    its last change of title. The due date is the one the user gave
    (``WatchedCase.response_due``), else the notice's date plus ``days``
    (:class:`ResponseDays`, its defaults when None). An overdue deadline stays open
    while the status is unchanged."""
    status = case.status
    kind = None if status is None else notice_kind(status.title_en)
    if status is None or kind is None:
        return None
    notice = case.notice_date
    if notice is None:
        seen = next(
            (e.seen_at for e in reversed(case.events) if "title" in e.fields),
            case.answered_at or case.checked_at or case.added_at,
        )
        notice = notice_date(status, seen)
    estimate = notice + timedelta(days=(days or ResponseDays()).of(kind))
    return ResponseDue(
        receipt_number=case.receipt_number.value,
        form_type=status.form_type,
        kind=kind,
        notice_date=notice,
        due=case.response_due or estimate,
        estimated=case.response_due is None,
        names=case.names,
    )


def open_deadlines(
    cases: Iterable[WatchedCase], days: ResponseDays | None = None
) -> list[ResponseDue]:
    """The open response deadlines of ``cases`` (:func:`response_due`), soonest first:
    overdue ones, the longest overdue first, lead."""
    found = (response_due(case, days) for case in cases)
    return sorted((due for due in found if due is not None), key=lambda due: due.due)
