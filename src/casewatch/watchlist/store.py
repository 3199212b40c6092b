"""A watchlist file's cases in memory (:class:`Watchlist`) and saving them.

Several casewatch processes may share one file (two dashboards, a cron
``casewatch refresh``, ``casewatch add``), and a person may edit it by hand. So a save is
a read-modify-write under a file lock (``<file>.lock``): the file is read again, what
other processes wrote since this one last read it is merged with this process's own
changes (:func:`merge_cases`), the previous version is kept as ``<file>.bak``, and the
result replaces the file atomically (temporary file, fsync, rename;
:func:`~casewatch.watchlist.writing.write_version`): a crash at any moment leaves the old
file or the new one, whole. A file that does not parse, or that a
newer casewatch wrote, is never written over.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from itertools import islice
from pathlib import Path

from filelock import FileLock

from casewatch.cases import CaseStatus
from casewatch.deadlines import recorded_notice
from casewatch.files import UnsafeFileError, read_regular
from casewatch.receipts import ReceiptNumber
from casewatch.watchlist.merge import merge_cases
from casewatch.watchlist.model import (
    ChangeEvent,
    DuplicateReceipt,
    WatchedCase,
    WatchlistError,
    clean_note,
    clean_tags,
    detect_change,
    one_line_label,
)
from casewatch.watchlist.reading import (
    CASE_HEADER_BYTES,
    WATCHLIST_MAX_BYTES,
    FileState,
    file_stamp,
    read_cases,
    read_current,
    read_file,
)
from casewatch.watchlist.writing import file_lock, file_pieces, holding, write_version

READ_WHOLE_UP_TO = 200
"""Cases: :meth:`Watchlist.load_first` reads a file of at most this many whole (in
about 30 ms), as reading its first cases first would save little."""


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

    def add(
        self,
        receipt: ReceiptNumber,
        *,
        label: str = "",
        added_at: datetime,
        client: str = "",
        tags: Iterable[str] = (),
        note: str = "",
    ) -> WatchedCase:
        """Start watching ``receipt`` (``added_at`` an aware datetime) with its label,
        client, tags and note (kept as :meth:`set_case_details` keeps them).

        Raises :class:`DuplicateReceipt` if already watched and
        :class:`~casewatch.watchlist.model.CaseDetailError` for a tag or note refused;
        either way nothing is changed.
        """
        if receipt.value in self.cases:
            raise DuplicateReceipt(f"{receipt} is already on the watchlist")
        case = _with_details(
            WatchedCase(receipt, added_at=added_at), label, client, tuple(tags), note
        )
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
        return self.set_case_details(receipt, label=label)

    def set_case_details(
        self,
        receipt: ReceiptNumber | str,
        *,
        label: str | None = None,
        client: str | None = None,
        tags: Iterable[str] | None = None,
        note: str | None = None,
    ) -> WatchedCase:
        """Set what the user says of the case of ``receipt``; None leaves a field as it is.
        The label and the client are kept on one line (:func:`one_line_label`), ``tags``
        replace the case's tags (:func:`~casewatch.watchlist.model.clean_tags`), the note
        is kept by :func:`~casewatch.watchlist.model.clean_note` (issue 14, point 1).

        Raises :class:`KeyError` if ``receipt`` is not watched and
        :class:`~casewatch.watchlist.model.CaseDetailError` for a tag or note refused;
        either way nothing is changed.
        """
        before = self.get(receipt)
        case = _with_details(
            before,
            before.label if label is None else label,
            before.client if client is None else client,
            before.tags if tags is None else tuple(tags),
            before.note if note is None else note,
        )
        if case != before:
            self.cases[case.receipt_number.value] = case
        return self.cases[case.receipt_number.value]

    def record_status(
        self, receipt: ReceiptNumber, status: CaseStatus, checked_at: datetime
    ) -> tuple[WatchedCase, ChangeEvent | None]:
        """Store what USCIS answered at ``checked_at``; clears the last error. Returns the
        case and the change it made (None when nothing changed); a change other than the
        first status marks the case unseen.

        A form type, once known, is kept when a later answer lacks it (``uscis-api.md``).
        A new status title records the date of the notice it announces when it asks for
        an answer (:func:`casewatch.deadlines.recorded_notice`) and drops the response
        due date given for the previous one.
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
        if event is not None and "title" in event.fields:  # a new notice, or none
            case = replace(case, notice_date=recorded_notice(status, checked_at), response_due=None)
        self.cases[receipt.value] = case
        return case, event

    def set_response_due(self, receipt: ReceiptNumber | str, due: date | None) -> WatchedCase:
        """Give the case of ``receipt`` the response due date printed on its notice (a US
        Eastern date), which wins over casewatch's estimate; None goes back to the
        estimate. Raises :class:`KeyError` if it is not watched."""
        case = replace(self.get(receipt), response_due=due)
        self.cases[case.receipt_number.value] = case
        return case

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
        file, is larger than :data:`~casewatch.watchlist.reading.WATCHLIST_MAX_BYTES` or
        cannot be read). The file is never changed by reading.
        """
        watchlist = cls(path)
        try:
            state = read_file(path, FileState())
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
        headers = list(islice(CASE_HEADER_BYTES.finditer(data), whole + 1))
        if len(headers) <= whole:
            return cls.load(path)
        cut = headers[count]  # the header of the first case left out
        try:
            first, places = read_cases(data[: cut.start()], path, FileState())
        except WatchlistError:
            return cls.load(path)
        watchlist = cls(path, dict(first))
        watchlist.file = FileState(cases=first, places=places)
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
        return file_stamp(self.path) != self.file.stamp

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
            return read_current(self.path, base)
        except WatchlistError:
            self.file = FileState(stamp=file_stamp(self.path))
            raise

    def _write_merged(self, base: FileState, ours: Mapping[str, WatchedCase]) -> FileState:
        """Under the file lock: read the file, merge ``ours`` into it, keep the previous
        version as the backup, write the result. Blocking; returns the new state."""
        if self._file_lock is None:
            self._file_lock = file_lock(self.path)
        with self._thread_lock, holding(self._file_lock, self.path):
            current = self._read_or_forget(base)
            # Nobody else wrote (the same bytes): ours as they are, which stay the base
            # (a private copy), so that _adopt's merge is as quick.
            theirs = current.cases
            merged = ours if theirs is base.cases else merge_cases(base.cases, ours, theirs)
            pieces, places = file_pieces(merged.values(), current.places)
            digest = write_version(self.path, pieces, keep_backup=current.digest is not None)
            return FileState(digest, file_stamp(self.path), merged, places)

    def _adopt(self, ours: Mapping[str, WatchedCase], written: FileState) -> Changes:
        # The cases changed while the file was written (compared with ``ours``) stay
        # changed, rebased on what was written.
        if written.cases is ours:  # nobody else wrote: nothing to take in
            self.file, self.unread = written, 0
            return {}
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


def _with_details(
    case: WatchedCase, label: str, client: str, tags: tuple[str, ...], note: str
) -> WatchedCase:
    """``case`` with these details, each kept as casewatch keeps it; raises
    :class:`~casewatch.watchlist.model.CaseDetailError` as :func:`clean_tags` and
    :func:`clean_note` do."""
    return replace(
        case,
        label=one_line_label(label),
        client=one_line_label(client),
        tags=clean_tags(tags),
        note=clean_note(note),
    )
