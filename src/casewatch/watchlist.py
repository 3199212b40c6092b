"""The TOML watchlist: the cases a user watches and what USCIS last said of each.

One file per environment (see :func:`casewatch.config.default_watchlist_path`). It is
read with tomllib and written with tomli-w. It never holds a secret.

Several casewatch processes may share one file (two dashboards, a cron
``casewatch refresh``, ``casewatch add``), and a person may edit it by hand. So a save is
a read-modify-write under a file lock (``<file>.lock``): the file is read again, what
other processes wrote since this one last read it is merged with this process's own
changes (:func:`merge_cases`), the previous version is kept as ``<file>.bak``, and the
result replaces the file atomically (temporary file, fsync, rename): a crash at any
moment leaves the old file or the new one, whole. A file that does not parse, or that a
newer casewatch wrote, is never written over.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import logging
import os
import re
import threading
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any, TypeGuard

import tomli_w
from filelock import FileLock, Timeout

from casewatch.cases import (
    EARLIEST_YEAR,
    US_EASTERN,
    CaseStatus,
    HistoryEntry,
    latest_year,
    one_line,
    printable,
)
from casewatch.files import (
    MiB,
    TomlFileError,
    UnsafeFileError,
    atomic_write_text,
    make_parent_folder,
    parse_toml,
    read_regular,
    require_private_folder,
)
from casewatch.receipts import ReceiptNumber, ReceiptNumberError, parse_receipt_number

SCHEMA_VERSION = 2

log = logging.getLogger(__name__)


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
    ``unseen`` marks a change the user has not looked at yet.
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


def _from_schema_0(document: dict[str, Any]) -> dict[str, Any]:
    # Schema 0: a file written by hand with no schema key (like the README's example):
    # the same [[case]] tables as schema 1, which only adds the key.
    return {**document, "schema": 1}


def _from_schema_1(document: dict[str, Any]) -> dict[str, Any]:
    # Schema 1 kept one time, checked_at, of the last check whether answered or failed.
    # Schema 2 adds answered_at, the last answer's: checked_at when that check was
    # answered; unknown (left out) when it failed.
    cases = document.get("case")
    if isinstance(cases, list):
        cases = [
            {**case, "answered_at": case["checked_at"]}
            if isinstance(case, dict)
            and "checked_at" in case
            and "status" in case
            and not case.get("last_error")
            else case
            for case in cases
        ]
        document = {**document, "case": cases}
    return {**document, "schema": 2}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    0: _from_schema_0,
    1: _from_schema_1,
}
"""The migration path: ``MIGRATIONS[n]`` turns a document of schema ``n`` into one of
schema ``n + 1``. A file is migrated in memory when it is read, and written in
:data:`SCHEMA_VERSION` at the next save (the original stays in ``<file>.bak``)."""

READ_WHOLE_UP_TO = 200
"""Cases: :meth:`Watchlist.load_first` reads a file of at most this many whole (in
about 30 ms), as reading its first cases first would save little."""

WATCHLIST_MAX_BYTES = 1024 * MiB
"""The largest watchlist file read, in bytes: a case with a long history and a few
changes takes about 4 kB, so 100,000 such cases fit with room to spare."""

LOCK_TIMEOUT_S = 30.0
"""Seconds a save waits for another process's save to finish before giving up."""


def migrate(document: dict[str, Any], path: Path) -> dict[str, Any]:
    """``document`` (the TOML of the watchlist ``path``) brought to :data:`SCHEMA_VERSION`
    through :data:`MIGRATIONS`. A file without ``schema`` is schema 0.

    Raises :class:`WatchlistError` for a schema that is not a whole number, or one newer
    than this casewatch knows (the file is then left alone: upgrade casewatch).
    """
    version = document.get("schema", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise WatchlistError(
            f"the watchlist {path}: schema = {version!r} is not a schema version; "
            f"this casewatch writes schema = {SCHEMA_VERSION}"
        )
    if version > SCHEMA_VERSION:
        raise WatchlistError(
            f"the watchlist {path} has schema {version}: a newer casewatch wrote it, and this "
            f"one knows schema {SCHEMA_VERSION} at most. The file is left as it is: upgrade "
            "casewatch (pip install --upgrade casewatch) to use it"
        )
    while version < SCHEMA_VERSION:
        document = MIGRATIONS[version](document)
        version += 1
    return document


def _restore_hint(path: Path) -> str:
    backup = backup_path(path)
    return (
        f"; or put back the version before the last save: cp {backup} {path}"
        if backup.exists()
        else ""
    )


def backup_path(path: Path) -> Path:
    """Where the version of the watchlist ``path`` before the last save is kept."""
    return path.with_name(path.name + ".bak")


_CASE_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*case[ \t]*\]\]", re.MULTILINE)
_HEADER = "[[case]]\n"
"""The header of a case's table as casewatch writes it."""
_CASE_HEADER_BYTES = re.compile(_CASE_HEADER.pattern.encode(), re.MULTILINE)
_INLINE_CASES_HINT = (
    ": the cases above are written as case = [ ... ] (as casewatch writes short ones); "
    "add a case inside those brackets, such as "
    '{ receipt_number = "EAC9999103403", added_at = 2026-11-29T09:30:00-05:00 },'
)


def parse_watchlist(text: str, path: Path) -> dict[str, WatchedCase]:
    """The cases of watchlist ``text`` (read from ``path``), in file order.

    Raises :class:`WatchlistError`: the file, line and column of a TOML syntax error
    and how to fix or restore it; the case (and its line) and the field of a bad value;
    a schema this casewatch cannot read.
    """
    try:
        data = migrate(parse_toml(text, path, "the watchlist"), path)
    except TomlFileError as exc:
        hint = _INLINE_CASES_HINT if "namespace ('case',)" in str(exc) else ""
        raise WatchlistError(f"{exc}{hint}{_restore_hint(path)}") from None
    cases: dict[str, WatchedCase] = {}
    try:
        tables = _tables(data.get("case", []), "case")
    except TypeError as exc:
        raise WatchlistError(f"the watchlist {path}: {exc}") from None
    headers = _header_lines(text)
    for index, raw in enumerate(tables, start=1):
        where = f"case {index}" + (
            f" (line {headers[index - 1]})" if len(headers) == len(tables) else ""
        )
        try:
            case = _case_from_toml(raw)
        except (ReceiptNumberError, TypeError, ValueError) as exc:
            raise WatchlistError(f"{where} in the watchlist {path}: {exc}") from None
        if case.receipt_number.value in cases:
            raise WatchlistError(
                f"{where} in the watchlist {path}: {case.receipt_number} is listed "
                "twice; keep one of its [[case]] tables"
            )
        cases[case.receipt_number.value] = case
    return cases


def _header_lines(text: str) -> list[int]:
    """The line numbers (from 1) of the ``[[case]]`` headers of ``text``."""
    lines, position, found = [], 0, 1
    for header in _CASE_HEADER.finditer(text):
        found += text.count("\n", position, header.start())
        position = header.start()
        lines.append(found)
    return lines


def watchlist_text(cases: Mapping[str, WatchedCase]) -> str:
    """``cases`` as the TOML text of a watchlist file (schema :data:`SCHEMA_VERSION`):
    the schema, then each case as a ``[[case]]`` table (:func:`case_text`)."""
    return _joined(_case_texts(cases.values(), {}))


def case_text(case: WatchedCase) -> str:
    """``case`` as the TOML text of its ``[[case]]`` table, the tables inside it
    (``[case.status]``, ``[[case.events]]``) following it.

    Always a table of its own, where tomli-w writes a short array of short tables inline
    (``case = [ ... ]``): so a file splits cheaply into its cases at their headers
    (:meth:`Watchlist.load_first`). The TOML rule that makes this text valid: a table
    header under an array of tables belongs to its last element (TOML 1.0, "Array of
    Tables").
    """
    # tomli-w writes the table named case with its header first, as it holds the
    # receipt number (a plain value); its subtables are written case.status and so on.
    return _HEADER + tomli_w.dumps({"case": _case_to_toml(case)}).removeprefix("[case]\n")


TextCache = dict[int, tuple[WatchedCase, str]]
""":func:`case_text` of cases by the id of the case object. Each entry holds the object
itself, so its id is never another object's while it is cached; cases are immutable, so
a cached text stays right."""


def _case_texts(cases: Iterable[WatchedCase], known: TextCache) -> TextCache:
    """The text of each of ``cases``, in order: from ``known`` when it holds that very
    object, else made now."""
    texts: TextCache = {}
    for case in cases:
        cached = known.get(id(case))
        if cached is None or cached[0] is not case:
            cached = (case, case_text(case))
        texts[id(case)] = cached
    return texts


def _joined(texts: TextCache) -> str:
    return f"schema = {SCHEMA_VERSION}\n" + "".join(f"\n{text}" for _, text in texts.values())


# Merging what two processes wrote


def _user_fields_changed(old: WatchedCase, new: WatchedCase) -> bool:
    # A new label, or the case removed and added again: what a person did.
    return new.label != old.label or new.added_at != old.added_at


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


def merge_case(old: WatchedCase | None, ours: WatchedCase, theirs: WatchedCase) -> WatchedCase:
    """One case changed on both sides since ``old`` (None: both added it).

    The label: the side that changed it (ours when both did; when both added the case,
    ours unless empty). The last check (error, when checked): the side that checked
    later; the last answer (status, when answered): the side answered later, so a
    failed check never hides an answer the other side recorded before it. Events: those
    of both (:func:`merge_events`). The unseen mark: the side that changed it, and always
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
        label=pick("label"),
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
    "unchanged" is checked by identity against ``base``: :func:`_read_file` keeps the
    objects of ``base`` for the cases the file did not change); changed on both,
    :func:`merge_case`. A case added on either side is kept. A case removed on one side
    goes, unless the other side gave it a new label (or removed and added it again)
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


# The file as this process last saw it

Stamp = tuple[int, int, int]
"""A file's (inode, size in bytes, modification time in nanoseconds): a cheap check
that it may have changed."""


@dataclass(frozen=True, slots=True)
class FileState:
    """The watchlist file as this process last read or wrote it: the SHA-256 of its
    bytes and its :data:`Stamp` (both None when there was no file) and its cases, the
    base of the next merge, and the text of each (:data:`TextCache`; of none for a file
    written by hand). After a read that failed to parse, ``cases`` is empty, so
    the repaired file is merged as a union: nothing of either side is dropped."""

    digest: bytes | None = None
    stamp: Stamp | None = None
    cases: Mapping[str, WatchedCase] = field(default_factory=dict)
    texts: TextCache = field(default_factory=dict)


Changes = dict[str, "WatchedCase | None"]
"""What a sync changed in memory: receipt number -> the case as it was before (None
for a case the sync added). A receipt no longer in ``Watchlist.cases`` was removed."""


class Watchlist:
    """The ordered cases of one watchlist file, keyed by receipt number.

    Change ``cases`` only through the methods (or by assigning a new
    :class:`WatchedCase`): the merge tells this process's changes by identity.

    ``unread`` is the number of cases of the file not read yet: 0, but after
    :meth:`load_first` until the whole file is read (by :meth:`reload_async` or a save).
    """

    def __init__(self, path: Path, cases: dict[str, WatchedCase] | None = None) -> None:
        self.path = path
        self.cases: dict[str, WatchedCase] = cases or {}
        self.file = FileState()
        self.unread = 0
        self._file_lock: FileLock | None = None
        self._thread_lock = threading.Lock()
        self._sync_lock: asyncio.Lock | None = None

    def __len__(self) -> int:
        return len(self.cases)

    def get(self, receipt: ReceiptNumber | str) -> WatchedCase:
        """The watched case of ``receipt``; raises :class:`KeyError` if not watched."""
        return self.cases[str(receipt)]

    def add(self, receipt: ReceiptNumber, *, label: str = "", added_at: datetime) -> WatchedCase:
        """Start watching ``receipt``. Raises :class:`DuplicateReceipt` if already watched."""
        if receipt.value in self.cases:
            raise DuplicateReceipt(f"{receipt} is already on the watchlist")
        case = WatchedCase(receipt, added_at=added_at, label=one_line_label(label))
        self.cases[receipt.value] = case
        return case

    def remove(self, receipt: ReceiptNumber | str) -> WatchedCase:
        """Stop watching ``receipt``; returns the case removed.

        Raises :class:`KeyError` (its first argument the message) if it is not watched.
        """
        try:
            return self.cases.pop(str(receipt))
        except KeyError:
            raise KeyError(f"{receipt} is not on the watchlist {self.path}") from None

    def restore(self, case: WatchedCase, index: int | None = None) -> WatchedCase:
        """Put a removed ``case`` back, with all its data, at position ``index`` (the end
        when None). Raises :class:`DuplicateReceipt` if its receipt is watched again."""
        key = case.receipt_number.value
        if key in self.cases:
            raise DuplicateReceipt(f"{case.receipt_number} is already on the watchlist")
        items = list(self.cases.items())
        position = len(items) if index is None else max(0, min(index, len(items)))
        items.insert(position, (key, case))
        self.cases.clear()
        self.cases.update(items)
        return case

    def set_label(self, receipt: ReceiptNumber | str, label: str) -> WatchedCase:
        """Give the case of ``receipt`` a new label (as :func:`one_line_label` keeps it)."""
        case = replace(self.get(receipt), label=one_line_label(label))
        self.cases[case.receipt_number.value] = case
        return case

    def record_status(
        self, receipt: ReceiptNumber, status: CaseStatus, checked_at: datetime
    ) -> tuple[WatchedCase, ChangeEvent | None]:
        """Store what USCIS answered at ``checked_at``; clears the last error. Returns the
        case and the change it made (None when nothing changed); a change other than the
        first status marks the case unseen.

        A form type, once known, is kept when a later answer lacks it (``uscis-api.md``).
        """
        case = self.get(receipt)
        if not status.form_type and case.status is not None and case.status.form_type:
            status = replace(status, form_type=case.status.form_type)
        event = detect_change(case.status, status, checked_at)
        case = replace(
            case, status=status, checked_at=checked_at, answered_at=checked_at, last_error=""
        )
        if event is not None:
            case = replace(
                case, events=(*case.events, event), unseen=case.unseen or not event.first
            )
        self.cases[receipt.value] = case
        return case, event

    def mark_seen(self, receipt: ReceiptNumber | str) -> WatchedCase:
        """The user has looked at the case: it is no longer marked changed."""
        case = replace(self.get(receipt), unseen=False)
        self.cases[case.receipt_number.value] = case
        return case

    def record_error(
        self, receipt: ReceiptNumber, message: str, checked_at: datetime
    ) -> WatchedCase:
        """Mark ``receipt`` with the message of a check that failed at ``checked_at``; its
        last status and the time of that answer (``answered_at``) stay."""
        case = replace(self.get(receipt), checked_at=checked_at, last_error=message)
        self.cases[receipt.value] = case
        return case

    @classmethod
    def load(cls, path: Path) -> Watchlist:
        """Read ``path``; a missing file is an empty watchlist.

        Raises :class:`WatchlistError` (file, line and column for a TOML syntax error;
        the case and field for a bad value; a newer schema; a file that is not a regular
        file, is larger than :data:`WATCHLIST_MAX_BYTES` or cannot be read). The file is
        never changed by reading.
        """
        watchlist = cls(path)
        try:
            state = _read_file(path, FileState())
        except UnsafeFileError as exc:
            raise WatchlistError(str(exc)) from None
        except OSError as exc:
            raise WatchlistError(f"cannot read the watchlist {path}: {exc}") from None
        watchlist.file = state
        watchlist.cases = dict(state.cases)
        return watchlist

    @classmethod
    def load_first(cls, path: Path, count: int) -> Watchlist:
        """Read the first ``count`` cases of ``path`` only, when it holds more than
        ``count`` and :data:`READ_WHOLE_UP_TO`, so that a long watchlist shows at once.
        :attr:`unread` is then the number of the others, counted by their ``[[case]]``
        headers as casewatch writes them (at the start of a line, no spaces): a quick
        count, made exact when the whole file is read.

        The cases read are the base of the next merge (a :class:`FileState` with no
        digest: the next :meth:`reload_async` or save reads the whole file), so a case
        not read yet counts as one another process added, and is kept. The file is read
        whole, as :meth:`load` does and with its errors, when its cases are not all in
        ``[[case]]`` tables (written inline by an older casewatch) or its first cases
        do not parse (a syntax error is then reported where :meth:`load` reports it).
        Raises :class:`WatchlistError` as :meth:`load` does.
        """
        try:
            found = read_regular(path, "the watchlist", WATCHLIST_MAX_BYTES)
        except OSError:
            return cls.load(path)  # which says what is wrong
        if found is None:
            return cls(path)
        data = found[0]
        whole = max(count, READ_WHOLE_UP_TO)
        headers = list(islice(_CASE_HEADER_BYTES.finditer(data), whole + 1))
        if len(headers) <= whole:
            return cls.load(path)
        cut = headers[count]  # the header of the first case left out
        try:
            first, texts = _read_cases(data[: cut.start()].decode("utf-8"), path, FileState())
        except (UnicodeDecodeError, WatchlistError):
            return cls.load(path)
        watchlist = cls(path, dict(first))
        watchlist.file = FileState(cases=first, texts=texts)
        watchlist.unread = 1 + data.count(b"\n[[case]]", cut.end())  # as casewatch writes
        return watchlist

    # Saving and following the file

    def has_unsaved_changes(self) -> bool:
        """Whether the cases differ from the file as this process last read or wrote it."""
        base = self.file.cases
        return len(base) != len(self.cases) or any(
            base.get(key) is not case for key, case in self.cases.items()
        )

    def changed_on_disk(self) -> bool:
        """Whether the file's :data:`Stamp` differs from when this process last read or
        wrote it (a cheap ``stat``; call :meth:`reload` to see what changed)."""
        return _stamp(self.path) != self.file.stamp

    def save(self) -> Changes:
        """Merge this process's changes into the file and write it (see the module).

        Returns what the merge changed in memory (others' changes taken in). Raises
        :class:`WatchlistError` when the file on disk does not parse or has a newer
        schema (it is not written; the cases stay in memory) and :class:`OSError` when
        it cannot be read, locked or written (disk full, read-only directory); the file
        on disk is then left as it was.
        """
        if self._saved():
            return {}
        ours = dict(self.cases)
        return self._adopt(ours, self._write_merged(self.file, ours))

    async def save_async(self) -> Changes:
        """:meth:`save` with the file work in a thread, so the event loop goes on; the
        cases changed meanwhile stay changed, to be saved next time. Saves and reloads
        of one watchlist run one at a time."""
        async with self._sync():
            if self._saved():
                return {}
            ours = dict(self.cases)
            written = await asyncio.to_thread(self._write_merged, self.file, ours)
            return self._adopt(ours, written)

    async def reload_async(self) -> Changes:
        """Take in what other processes or a text editor wrote since this process last
        read or wrote the file, keeping the changes not saved yet (see :func:`merge_cases`).

        Returns what changed in memory. Raises :class:`WatchlistError` for a file that
        does not parse (the cases in memory stay as they are) and :class:`OSError` for
        one that cannot be read.
        """
        async with self._sync():
            base = self.file
            state = await asyncio.to_thread(self._read_or_forget, base)
            if state.digest == base.digest and not self.unread:
                self.file = state
                return {}
            return self._take(merge_cases(base.cases, self.cases, state.cases), state)

    def _saved(self) -> bool:
        """Whether a save has nothing to do: no change in memory, none on disk."""
        return not self.has_unsaved_changes() and not self.changed_on_disk()

    def _sync(self) -> asyncio.Lock:
        if self._sync_lock is None:
            self._sync_lock = asyncio.Lock()
        return self._sync_lock

    def _read_or_forget(self, base: FileState) -> FileState:
        # A file that does not parse: forget the base, so that the repaired file (or the
        # backup put back) is merged as a union and nothing of this process is lost.
        try:
            return _read_file(self.path, base)
        except WatchlistError:
            self.file = FileState(stamp=_stamp(self.path))
            raise

    def _write_merged(self, base: FileState, ours: Mapping[str, WatchedCase]) -> FileState:
        """Under the file lock: read the file, merge ``ours`` into it, keep the previous
        version as the backup, write the result. Blocking; returns the new state."""
        make_parent_folder(self.path)  # checked before the lock file is made there
        require_private_folder(self.path.parent)
        if self._file_lock is None:
            self._file_lock = FileLock(
                self.path.with_name(self.path.name + ".lock"),
                timeout=LOCK_TIMEOUT_S,
                thread_local=False,
            )
        try:
            with self._thread_lock, self._file_lock:
                current = self._read_or_forget(base)
                merged = merge_cases(base.cases, ours, current.cases)
                texts = _case_texts(merged.values(), {**base.texts, **current.texts})
                text = _joined(texts)
                _remove_leftovers(self.path)
                spare = None if current.digest is None else _link_spare(self.path)
                try:
                    atomic_write_text(self.path, text)
                except BaseException:
                    if spare is not None:
                        spare.unlink(missing_ok=True)  # the backup stays the older version
                    raise
                if spare is not None:
                    _keep_backup(spare, self.path)
                digest = hashlib.sha256(text.encode()).digest()
                return FileState(digest, _stamp(self.path), merged, texts)
        except Timeout:
            raise OSError(
                f"cannot write {self.path}: another casewatch has held its lock "
                f"{self._file_lock.lock_file} for over {LOCK_TIMEOUT_S:g} seconds"
            ) from None

    def _adopt(self, ours: Mapping[str, WatchedCase], written: FileState) -> Changes:
        # The cases changed while the file was written (compared with ``ours``) stay
        # changed, rebased on what was written.
        return self._take(merge_cases(ours, self.cases, written.cases), written)

    def _take(self, merged: dict[str, WatchedCase], state: FileState) -> Changes:
        changes: Changes = {
            key: case for key, case in self.cases.items() if merged.get(key) is not case
        }
        changes.update((key, None) for key in merged if key not in self.cases)
        self.cases.clear()
        self.cases.update(merged)
        self.file = state
        self.unread = 0
        return changes


def _stamp(path: Path) -> Stamp | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _read_file(path: Path, base: FileState) -> FileState:
    """The watchlist file now; ``base``'s cases when its bytes are the same (no parse),
    and ``base``'s object for each case that did not change.

    Raises :class:`WatchlistError` for a file that does not parse, :class:`OSError` for
    one that cannot be read (:class:`UnsafeFileError` for one that is not a regular file
    or is larger than :data:`WATCHLIST_MAX_BYTES`).
    """
    found = read_regular(path, "the watchlist", WATCHLIST_MAX_BYTES)
    if found is None:
        return FileState()
    data, info = found
    stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
    digest = hashlib.sha256(data).digest()
    if digest == base.digest:
        return FileState(digest, stamp, base.cases, base.texts)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WatchlistError(
            f"the watchlist {path} is not UTF-8 text (byte {exc.start}): save it as UTF-8"
            f"{_restore_hint(path)}"
        ) from None
    return FileState(digest, stamp, *_read_cases(text, path, base))


def _read_cases(text: str, path: Path, base: FileState) -> tuple[dict[str, WatchedCase], TextCache]:
    """The cases of watchlist ``text`` (read from ``path``) and the text of each; for each
    case the file did not change, ``base``'s object (by its text, else by its value), so
    that cases compare by identity (:func:`merge_cases`).

    A file as casewatch writes it is split at its ``[[case]]`` headers and each case
    parsed alone (a case whose text ``base`` holds is not parsed again); any other file
    (written by hand, inline, not valid, with an older schema) is parsed whole by
    :func:`parse_watchlist`, with its errors and their positions, and no texts kept.
    Raises :class:`WatchlistError` as :func:`parse_watchlist` does.
    """
    split = _split_cases(text, base)
    if split is not None:
        return split
    known = base.cases
    cases = {
        key: old if (old := known.get(key)) is not None and old == case else case
        for key, case in parse_watchlist(text, path).items()
    }
    return cases, {}


def _split_cases(text: str, base: FileState) -> tuple[dict[str, WatchedCase], TextCache] | None:
    """:func:`_read_cases` of a file as casewatch writes it: its schema first, then
    ``[[case]]`` tables each starting a line. None when the file is not so, or when
    anything in it is wrong, for :func:`parse_watchlist` to say where.

    Each case's text is a whole TOML document of its own (a table header under an array
    of tables belongs to its last element), checked to hold that one case and nothing
    else; a header-like line inside a multi-line string cuts the string, which fails.
    """
    preamble, *parts = text.split(f"\n{_HEADER}")
    try:
        document = tomllib.loads(preamble)
    except tomllib.TOMLDecodeError:
        return None
    if document.get("schema") != SCHEMA_VERSION or "case" in document:
        return None  # an older schema is migrated whole
    by_text = {text: case for case, text in base.texts.values()}
    cases: dict[str, WatchedCase] = {}
    texts: TextCache = {}
    for part in parts:
        chunk = _HEADER + part.rstrip("\n") + "\n"
        case = by_text.get(chunk)
        if case is None:
            case = _lone_case(chunk)
            if case is None:
                return None
            old = base.cases.get(case.receipt_number.value)
            case = old if old is not None and old == case else case
        if case.receipt_number.value in cases:
            return None
        cases[case.receipt_number.value] = case
        texts[id(case)] = (case, chunk)
    return cases, texts


def _lone_case(chunk: str) -> WatchedCase | None:
    """The case of ``chunk``, a TOML document holding one ``[[case]]`` table and nothing
    else; None when it is not that, or the case is not valid."""
    try:
        document = tomllib.loads(chunk)
    except tomllib.TOMLDecodeError:
        return None
    tables = document.get("case")
    if len(document) != 1 or not isinstance(tables, list) or len(tables) != 1:
        return None  # another table, or more cases (headers not written as casewatch does)
    try:
        return _case_from_toml(tables[0])
    except (ReceiptNumberError, TypeError, ValueError):
        return None


def _remove_leftovers(path: Path) -> None:
    # The temporary files of a save killed before its rename. Under the file lock no
    # other save is writing one.
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        leftover.unlink(missing_ok=True)


def _link_spare(path: Path) -> Path:
    """The current file ``path`` under a spare name, to become ``<file>.bak`` once the
    new version is written (:func:`_keep_backup`), so that a save that fails (a full
    disk) leaves the older backup as it was. A hard link, so no data is copied and the
    file itself is untouched (a copy where the file system has no hard links); once the
    new version replaces the file, the link is the only name of the previous one."""
    spare = path.with_name(f".{backup_path(path).name}.tmp")
    try:
        spare.unlink(missing_ok=True)
        try:  # os.link does not follow a symbolic link on Linux (bpo-41355)
            os.link(os.path.realpath(path), spare)
        except OSError:
            atomic_write_text(spare, path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot keep the previous version as {backup_path(path)}: {exc.strerror or exc}",
        ) from None
    return spare


def _keep_backup(spare: Path, path: Path) -> None:
    """Make ``spare`` (:func:`_link_spare`) the backup of ``path``, which is written:
    should that fail, the save stands, the backup stays the version before, and the log
    says why."""
    try:
        spare.replace(backup_path(path))
    except OSError as exc:
        spare.unlink(missing_ok=True)
        log.warning("cannot keep the previous version of %s as its backup: %s", path, exc)


def _drop_empty(table: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in table.items() if value not in (None, "", [])}


def _history_to_toml(entry: HistoryEntry) -> dict[str, Any]:
    return _drop_empty(
        {
            "date": entry.date,
            "date_text": entry.date_text,
            "text_en": entry.text_en,
            "text_es": entry.text_es,
        }
    )


def _status_to_toml(status: CaseStatus) -> dict[str, Any]:
    return _drop_empty(
        {
            "form_type": status.form_type,
            "title_en": status.title_en,
            "description_en": status.description_en,
            "title_es": status.title_es,
            "description_es": status.description_es,
            "submitted": status.submitted,
            "submitted_text": status.submitted_text,
            "modified": status.modified,
            "modified_text": status.modified_text,
            "history": [_history_to_toml(entry) for entry in status.history],
        }
    )


def _event_to_toml(event: ChangeEvent) -> dict[str, Any]:
    return _drop_empty(
        {
            "seen_at": event.seen_at,
            "changed_at": event.changed_at,
            "previous_title": event.previous_title,
            "title": event.title,
            "fields": list(event.fields),
            "first": event.first or None,
        }
    )


def _case_to_toml(case: WatchedCase) -> dict[str, Any]:
    table = _drop_empty(
        {
            "receipt_number": case.receipt_number.value,
            "label": case.label,
            "added_at": case.added_at,
            "checked_at": case.checked_at,
            "answered_at": case.answered_at,
            "last_error": case.last_error,
            "unseen": case.unseen or None,
        }
    )
    if case.status is not None:
        table["status"] = _status_to_toml(case.status)
    if case.events:
        table["events"] = [_event_to_toml(event) for event in case.events]
    return table


def _eastern(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a date and time, got {value!r}")
    aware = value if value.tzinfo is not None else value.replace(tzinfo=US_EASTERN)
    try:
        return aware.astimezone(US_EASTERN)
    except OverflowError:  # year 1 or 9999 with an offset: outside what Python can date
        raise ValueError(f"{name} {value.isoformat()} is out of range") from None


def _tables(value: object, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TypeError(f"{name} must be an array of tables, written [[{name}]]")
    return value


def _str(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise TypeError(f"{key} must be text, got {value!r}")
    return printable(value)  # a file edited by hand may hold escape sequences


def one_line_label(label: str) -> str:
    """``label`` as casewatch keeps it: one line of printable text, spaces trimmed
    (:func:`casewatch.cases.one_line`)."""
    return one_line(label)


def _history_from_toml(raw: dict[str, Any]) -> HistoryEntry:
    day = raw.get("date")
    if day is not None and not isinstance(day, date):
        raise TypeError(f"history date must be a date, got {day!r}")
    return HistoryEntry(
        date=day,
        date_text=_str(raw, "date_text"),
        text_en=_str(raw, "text_en"),
        text_es=_str(raw, "text_es"),
    )


def _implausible(value: object) -> TypeGuard[datetime]:
    # A USCIS date outside EARLIEST_YEAR to latest_year(), as a casewatch before issue 11
    # stored them (year 9999 read back "out of range"); such a date from USCIS is now
    # kept as its text.
    return isinstance(value, datetime) and not EARLIEST_YEAR <= value.year <= latest_year()


def _uscis_date(raw: dict[str, Any], key: str) -> tuple[datetime | None, str]:
    # A status's submitted/modified date and its text (an implausible date as its text).
    value = raw.get(key)
    if _implausible(value):
        return None, value.isoformat(sep=" ")
    return _eastern(value, key), _str(raw, f"{key}_text")


def _status_from_toml(raw: dict[str, Any], receipt: ReceiptNumber) -> CaseStatus:
    submitted, submitted_text = _uscis_date(raw, "submitted")
    modified, modified_text = _uscis_date(raw, "modified")
    return CaseStatus(
        receipt_number=receipt.value,
        form_type=_str(raw, "form_type"),
        title_en=_str(raw, "title_en"),
        description_en=_str(raw, "description_en"),
        title_es=_str(raw, "title_es"),
        description_es=_str(raw, "description_es"),
        submitted=submitted,
        modified=modified,
        history=tuple(
            _history_from_toml(entry) for entry in _tables(raw.get("history", []), "history")
        ),
        submitted_text=submitted_text,
        modified_text=modified_text,
    )


def _event_from_toml(raw: dict[str, Any]) -> ChangeEvent:
    seen_at = _eastern(raw.get("seen_at"), "seen_at")
    if seen_at is None:
        raise ValueError("an event needs seen_at, when casewatch saw the change")
    fields = raw.get("fields", [])
    if not isinstance(fields, list) or not all(isinstance(name, str) for name in fields):
        raise TypeError("fields must be a list of text")
    changed_at = raw.get("changed_at")  # USCIS's date of the change: implausible, not given
    return ChangeEvent(
        seen_at=seen_at,
        changed_at=None if _implausible(changed_at) else _eastern(changed_at, "changed_at"),
        previous_title=_str(raw, "previous_title"),
        title=_str(raw, "title"),
        fields=tuple(fields),
        first=raw.get("first") is True,
    )


def _case_from_toml(raw: dict[str, Any]) -> WatchedCase:
    receipt = parse_receipt_number(_str(raw, "receipt_number"))
    status = raw.get("status")
    if status is not None and not isinstance(status, dict):
        raise TypeError("status must be a table, written [case.status]")
    added_at = _eastern(raw.get("added_at"), "added_at")
    if added_at is None:
        raise ValueError(
            "added_at is missing: give when the case was added, such as 2026-11-29T09:30:00-05:00"
        )
    return WatchedCase(
        receipt_number=receipt,
        added_at=added_at,
        label=one_line_label(_str(raw, "label")),
        status=None if status is None else _status_from_toml(status, receipt),
        checked_at=_eastern(raw.get("checked_at"), "checked_at"),
        answered_at=_eastern(raw.get("answered_at"), "answered_at"),
        last_error=_str(raw, "last_error"),
        events=tuple(_event_from_toml(event) for event in _tables(raw.get("events", []), "events")),
        unseen=raw.get("unseen") is True,
    )
