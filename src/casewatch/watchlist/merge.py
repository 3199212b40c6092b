"""Merging what two processes wrote: a three-way merge of watchlists, case by case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from casewatch.cases import US_EASTERN
from casewatch.watchlist.model import ChangeEvent, WatchedCase

USER_FIELDS = ("label", "client", "tags", "note", "response_due", "added_at")
"""The fields of a case that a person sets (``added_at``: the case removed and added
again); the others record what USCIS answered."""


def _user_fields_changed(old: WatchedCase, new: WatchedCase) -> bool:
    return any(getattr(new, name) != getattr(old, name) for name in USER_FIELDS)


def _new_alert(old: WatchedCase | None, case: WatchedCase) -> bool:
    known = old.events if old is not None else ()
    return case.unseen and any(not e.first and e not in known for e in case.events)


def merge_events(
    ours: tuple[ChangeEvent, ...], theirs: tuple[ChangeEvent, ...]
) -> tuple[ChangeEvent, ...]:
    """The events of both sides, oldest first (by ``seen_at``); the same change seen by
    two processes (same USCIS date, titles and fields) is kept once, as first seen."""
    if ours == theirs:
        return ours
    kept: dict[tuple[object, ...], ChangeEvent] = {}
    for event in sorted((*ours, *theirs), key=lambda e: e.seen_at):
        kept.setdefault((event.changed_at, event.previous_title, event.title, event.fields), event)
    return tuple(kept.values())


def merge_tags(
    old: tuple[str, ...] | None, ours: tuple[str, ...], theirs: tuple[str, ...]
) -> tuple[str, ...]:
    """A three-way merge of a case's tags against ``old``, the tags both sides started
    from (None: both added the case, so nothing was removed): a tag either side added is
    kept, a tag either side removed goes. Ours in their order, then those only theirs
    added, in theirs; the same tag added by both in two cases ("Premium", "premium")
    is kept once, as ours wrote it."""
    if ours == theirs:
        return ours
    base = set(old or ())
    removed = base - set(ours) | base - set(theirs)
    kept: dict[str, str] = {}
    for tag in (*ours, *theirs):
        if tag not in removed:
            kept.setdefault(tag.casefold(), tag)
    return tuple(kept.values())


def merge_case(old: WatchedCase | None, ours: WatchedCase, theirs: WatchedCase) -> WatchedCase:
    """One case changed on both sides since ``old`` (None: both added it).

    The label, the client and the note: the side that changed it (ours when both did;
    when both added the case, ours unless empty). The tags: :func:`merge_tags`. The
    last check (error, when checked): the side that checked later; the last answer
    (status, when answered, with the notice date recorded for it): the side answered
    later, so a failed check never hides an answer the other side recorded before it.
    The response due date given: as the label while both sides hold the same notice;
    else the later answer's, as a due date belongs to its notice. Events: those of
    both (:func:`merge_events`). The unseen mark: the side that changed it, and always
    set when either side brings a change alert the other has not seen.
    """

    def pick(name: str) -> Any:
        mine = getattr(ours, name)
        if old is None:
            return mine or getattr(theirs, name)
        return getattr(theirs, name) if mine == getattr(old, name) else mine

    never = datetime.min.replace(tzinfo=US_EASTERN)
    checked = ours if (ours.checked_at or never) >= (theirs.checked_at or never) else theirs
    answered = ours if (ours.answered_at or never) >= (theirs.answered_at or never) else theirs
    return replace(
        checked,
        status=answered.status,
        answered_at=answered.answered_at,
        notice_date=answered.notice_date,
        label=pick("label"),
        response_due=(
            pick("response_due")
            if ours.notice_date == theirs.notice_date
            else answered.response_due
        ),
        client=pick("client"),
        tags=merge_tags(None if old is None else old.tags, ours.tags, theirs.tags),
        note=pick("note"),
        added_at=min(ours.added_at, theirs.added_at) if old is None else pick("added_at"),
        events=merge_events(ours.events, theirs.events),
        unseen=pick("unseen") or _new_alert(old, ours) or _new_alert(old, theirs),
    )


def merge_cases(
    base: Mapping[str, WatchedCase],
    ours: Mapping[str, WatchedCase],
    theirs: Mapping[str, WatchedCase],
) -> dict[str, WatchedCase]:
    """A three-way merge of watchlists: ``base`` is the file as this process last read
    or wrote it, ``ours`` this process's cases now, ``theirs`` the file now.

    A case changed on one side only takes that side's version (cases are immutable, so
    "unchanged" is checked by identity against ``base``: :func:`read_file` keeps the
    objects of ``base`` for the cases the file did not change); changed on both,
    :func:`merge_case`. A case added on either side is kept. A case removed on one side
    goes, unless the other side gave it a new label, client, tags or note
    (:data:`USER_FIELDS`; or removed and added it again)
    that the removing side had not seen: then nothing of that edit is lost and it
    stays. New status checks never bring a removed case back. Order: ``ours``, each case
    only ``theirs`` has placed after the case it follows there.
    """
    merged: dict[str, WatchedCase] = {}
    for key, their in theirs.items():
        mine, old = ours.get(key), base.get(key)
        if mine is None:
            if old is None or _user_fields_changed(old, their):
                merged[key] = their
        elif old is None:
            merged[key] = mine if mine is their else merge_case(None, mine, their)
        elif their is old:
            merged[key] = mine
        elif mine is old:
            merged[key] = their
        else:
            merged[key] = merge_case(old, mine, their)
    for key, mine in ours.items():
        if key in theirs:
            continue
        old = base.get(key)
        if old is None or (mine is not old and _user_fields_changed(old, mine)):
            merged[key] = mine
    return {key: merged[key] for key in _merged_order(ours, theirs, merged)}


def _merged_order(
    ours: Mapping[str, WatchedCase],
    theirs: Mapping[str, WatchedCase],
    merged: Mapping[str, WatchedCase],
) -> list[str]:
    following: dict[str | None, list[str]] = {}  # case of ours -> cases only theirs has
    anchor = None
    for key in theirs:
        if key in ours:
            anchor = key
        elif key in merged:
            following.setdefault(anchor, []).append(key)
    order = list(following.get(None, ()))
    for key in ours:
        if key in merged:
            order.append(key)
        order.extend(following.get(key, ()))
    return order
