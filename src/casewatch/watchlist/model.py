"""The watchlist's cases as casewatch holds them in memory: a watched case, its change
events, and what counts as a change of status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from casewatch.cases import CaseStatus, one_line, printable
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

    What the user says of it (issue 14, point 1): ``label`` and ``client`` (a person or
    a family, the unit a paralegal thinks in) are one line each (:func:`one_line_label`),
    ``tags`` the case's tags in the order given, without repeats (:func:`clean_tags`),
    ``note`` free text that may hold line breaks (:func:`clean_note`).
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
    client: str = ""
    tags: tuple[str, ...] = ()
    note: str = ""

    @property
    def names(self) -> str:
        """Who and what the case is, as the user named it: client and label joined by
        `` · `` (``Garcia, Maria · I-485 AOS``), either alone, or empty."""
        return " · ".join(name for name in (self.client, self.label) if name)


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


TAG_MAX_CHARS = 40
"""Characters of a tag at most: attorney initials, "premium", "priority"."""

NOTE_MAX_CHARS = 4000
"""Characters of a case's note at most (about a page), so that what a case keeps stays
bounded (issue 11, point 5)."""


class CaseDetailError(ValueError):
    """A tag or a note that casewatch does not keep; the message says why and what to
    give instead."""


def clean_tag(text: str) -> str:
    """``text`` as a tag: trimmed, its inner spaces one each.

    Raises :class:`CaseDetailError` for an empty tag, one holding ``;`` (what separates
    the tags of a CSV cell: import and export, issue 14), a control character or another
    character :func:`casewatch.cases.printable` drops (they would drive the terminal or
    hide text), or one longer than :data:`TAG_MAX_CHARS` characters.
    """
    if printable(text) != text or any(character in text for character in "\t\n"):
        raise CaseDetailError(
            f"the tag {text.strip()!r} holds a control or invisible character: give printable text"
        )
    tag = " ".join(text.split())
    if not tag:
        raise CaseDetailError("a tag is empty: give some text, such as premium or JD")
    if ";" in tag:
        raise CaseDetailError(
            f"the tag {tag!r} holds ';', which separates tags in CSV files: give each tag "
            "with its own --tag"
        )
    if len(tag) > TAG_MAX_CHARS:
        raise CaseDetailError(
            f"the tag {tag[:TAG_MAX_CHARS]}… is {len(tag)} characters long: give at most "
            f"{TAG_MAX_CHARS}"
        )
    return tag


def clean_tags(texts: Iterable[str]) -> tuple[str, ...]:
    """``texts`` as a case's tags: each :func:`clean_tag`, in order, a repeat (any case:
    "Premium" repeats "premium") kept once, as first given. Raises
    :class:`CaseDetailError` as :func:`clean_tag` does."""
    tags: dict[str, str] = {}
    for text in texts:
        tag = clean_tag(text)
        tags.setdefault(tag.casefold(), tag)
    return tuple(tags.values())


def without_tags(tags: Iterable[str], removed: Iterable[str]) -> tuple[str, ...]:
    """``tags`` but those of ``removed`` (any case, spaces as :func:`clean_tag` trims
    them), in order."""
    gone = {" ".join(tag.split()).casefold() for tag in removed}
    return tuple(tag for tag in tags if tag.casefold() not in gone)


def clean_note(text: str) -> str:
    """``text`` as a case's note: each line :func:`~casewatch.cases.printable` with its
    trailing spaces dropped, lines joined by line feeds (a carriage return, U+2028 or
    U+2029 ends a line too), blank lines at both ends dropped. Raises
    :class:`CaseDetailError` for a note longer than :data:`NOTE_MAX_CHARS` characters."""
    note = "\n".join(printable(line).rstrip() for line in text.splitlines()).strip()
    if len(note) > NOTE_MAX_CHARS:
        raise CaseDetailError(
            f"the note is {len(note):,} characters long: give at most {NOTE_MAX_CHARS:,}"
        )
    return note
