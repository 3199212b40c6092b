"""The response due dates as an iCalendar file (RFC 5545), for ``casewatch calendar``:
one all-day event per open deadline, with a reminder before it (issue 14, point 4).
Written with the ``icalendar`` library."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from casewatch.deadlines import REMINDER_BEFORE, ResponseDue

PRODUCT_ID = "-//casewatch//response due dates//EN"
"""The calendar's PRODID (RFC 5545, 3.7.3)."""


def response_calendar(dues: Iterable[ResponseDue], now: datetime) -> str:
    """``dues`` as the text of an iCalendar file: per deadline, an all-day event on the
    due date (a US Eastern date) whose summary names the receipt number, the form type,
    the client and the label (``Response due: IOE0912345678 I-485 — Garcia, Maria ·
    AOS``; ``Response due (estimate)`` for an estimate), its description the
    notice and whether the date is estimated; a display alarm :data:`REMINDER_BEFORE`
    ahead. Each event's UID is :attr:`ResponseDue.uid`: one per case and notice, the
    same when the due date moves, so a calendar program importing the file again
    updates the event rather than adding another. ``now`` (an aware datetime) is the
    events' DTSTAMP. Never raises."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    for due in dues:
        approx = " (estimate)" if due.estimated else ""
        who = f" — {due.names}" if due.names else ""
        summary = f"Response due{approx}: {due.receipt_number} {due.form_type}".rstrip() + who
        how = (
            "estimated by casewatch: the notice has the exact date"
            if due.estimated
            else "the date given from the notice"
        )
        event = Event()
        event.add("uid", due.uid)
        event.add("dtstamp", now)
        event.add("summary", summary)
        event.add("description", f"{due.kind.value} of {due.notice_date}; due {due.due}, {how}")
        event.add("dtstart", due.due)
        event.add("dtend", due.due + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{summary} in {REMINDER_BEFORE.days} days ({due.due})")
        alarm.add("trigger", -REMINDER_BEFORE)
        event.add_component(alarm)
        calendar.add_component(event)
    text: bytes = calendar.to_ical()
    return text.decode("utf-8")
