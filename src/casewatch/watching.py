"""What watching a case does to a watchlist: ``casewatch add``, ``casewatch import``
and the dashboard's ``i`` add a receipt not yet watched, and, for a case already
watched, fill in its empty label, client, tags and note, or replace them under
:attr:`LabelRule.REPLACE` (``--update``); an empty field never blanks one (issue 13,
point 2, and issue 14, point 1). :class:`Watched` says what was done, in the words
the user reads. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from casewatch.listing import TAG_SEPARATOR, describe_case
from casewatch.receipts import ReceiptNumber
from casewatch.watchlist import (
    DuplicateReceipt,
    WatchedCase,
    Watchlist,
    clean_note,
    clean_tags,
    one_line_label,
)


@dataclass(frozen=True, slots=True)
class CaseDetails:
    """What the user says of a case (issue 14, point 1), each field as casewatch keeps it
    (make it with :meth:`clean`): a one-line ``label`` and ``client``, ``tags`` without
    repeats and a ``note`` that may hold line breaks. Empty is "not given"."""

    label: str = ""
    client: str = ""
    tags: tuple[str, ...] = ()
    note: str = ""

    @classmethod
    def clean(
        cls, *, label: str = "", client: str = "", tags: tuple[str, ...] = (), note: str = ""
    ) -> CaseDetails:
        """The details given, kept as the watchlist keeps them. Raises
        :class:`~casewatch.watchlist.CaseDetailError` for a tag or a note refused
        (:func:`~casewatch.watchlist.clean_tags`, :func:`~casewatch.watchlist.clean_note`)."""
        return cls(
            one_line_label(label), one_line_label(client), clean_tags(tags), clean_note(note)
        )


DETAIL_FIELDS = ("label", "client", "tags", "note")
"""The fields of :class:`CaseDetails`, in the order casewatch names them."""


class LabelRule(Enum):
    """What a label, client, tags or note given for a case already watched does to the
    case's own (each field alone; the tags as one field)."""

    FILL = "fill"
    """It fills an empty field in (``casewatch add`` and ``import``)."""
    REPLACE = "replace"
    """It fills an empty field in or replaces another (``--update``)."""


def _shown(name: str, value: object) -> str:
    """A detail's value in a message: quoted, the tags joined as in a CSV cell, a note
    by its first line."""
    if isinstance(value, tuple):
        return repr(TAG_SEPARATOR.join(value))
    if name == "note":
        first, *more = str(value).splitlines() or [""]
        return repr(first + (" …" if more else ""))
    return repr(value)


@dataclass(frozen=True, slots=True)
class Watched:
    """What :func:`watch` did: ``case`` is the case as it is now, ``before`` the case as it
    was when it was already watched (None when it was added), ``offered`` the details
    asked for."""

    case: WatchedCase
    before: WatchedCase | None
    offered: CaseDetails

    @property
    def added(self) -> bool:
        """The case was not watched and is now."""
        return self.before is None

    @property
    def changed(self) -> tuple[str, ...]:
        """The :data:`DETAIL_FIELDS` of a watched case that were set or replaced."""
        before = self.before
        if before is None:
            return ()
        return tuple(
            name for name in DETAIL_FIELDS if getattr(before, name) != getattr(self.case, name)
        )

    @property
    def refused(self) -> tuple[str, ...]:
        """The :data:`DETAIL_FIELDS` of a watched case that kept their value while another
        was offered (only :attr:`LabelRule.REPLACE` would have taken it)."""
        if self.added:
            return ()
        return tuple(
            name
            for name in DETAIL_FIELDS
            if name not in self.changed
            and getattr(self.offered, name) not in ("", (), getattr(self.case, name))
        )

    def describe(self) -> str:
        """One line for the user: ``added EAC… (label), client 'X', tags 'a; b', a note``;
        ``EAC…: label set to 'X'; tags 'a' replaced by 'b'; note 'n' removed`` (each
        field changed); or
        ``EAC… is already on the watchlist (label 'A', added …)`` followed by ``; label
        'X' not set`` for each field refused."""
        receipt, case = self.case.receipt_number, self.case
        if self.before is None:
            extras = [f"client {case.client!r}"] if case.client else []
            extras += [f"tags {_shown('tags', case.tags)}"] if case.tags else []
            extras += ["a note"] if case.note else []
            label = f" ({case.label})" if case.label else ""
            return f"added {receipt}{label}" + "".join(f", {extra}" for extra in extras)
        if changes := self.changed:
            return f"{receipt}: " + "; ".join(self._change(name) for name in changes)
        refused = "".join(f"; {refusal}" for refusal in self._refusals())
        return f"{receipt} is already on the watchlist ({describe_case(case)}){refused}"

    def describe_refused(self) -> str:
        """The fields refused, for a case where others changed: ``EAC…: client 'X' not
        set``."""
        return f"{self.case.receipt_number}: " + "; ".join(self._refusals())

    def _change(self, name: str) -> str:
        old = getattr(self.before, name)
        new = getattr(self.case, name)
        if not old:
            return f"{name} set to {_shown(name, new)}"
        if not new:
            return f"{name} {_shown(name, old)} removed"
        return f"{name} {_shown(name, old)} replaced by {_shown(name, new)}"

    def _refusals(self) -> list[str]:
        return [
            f"{name} {_shown(name, getattr(self.offered, name))} not set" for name in self.refused
        ]


def watch(
    watchlist: Watchlist,
    receipt: ReceiptNumber,
    *,
    details: CaseDetails,
    added_at: datetime,
    rule: LabelRule,
) -> Watched:
    """Watch ``receipt`` with ``details``: add it (``added_at`` an aware datetime), or,
    when it is already watched, apply ``rule`` to each of its details. An empty field
    never blanks one. Never raises (``details`` are clean: :meth:`CaseDetails.clean`;
    issue 13, point 2)."""
    try:
        case = watchlist.add(
            receipt,
            label=details.label,
            added_at=added_at,
            client=details.client,
            tags=details.tags,
            note=details.note,
        )
        return Watched(case, None, details)
    except DuplicateReceipt:
        before = watchlist.get(receipt)

    def takes(name: str) -> bool:
        offered = getattr(details, name)
        return bool(offered) and (
            (rule is LabelRule.FILL and not getattr(before, name)) or rule is LabelRule.REPLACE
        )

    taken = {name: getattr(details, name) for name in DETAIL_FIELDS if takes(name)}
    case = watchlist.set_case_details(receipt, **taken) if taken else before
    return Watched(case, before, details)
