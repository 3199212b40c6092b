"""A long watchlist that casewatch wrote, changed or read case by case: ``casewatch add``
and ``casewatch remove`` without parsing the cases they do not change, ``casewatch list``
printing its first cases before it has read the last (issue 16, point 4).

A file whose SHA-256 is the one the last save recorded in ``<file>.sha256``
(:func:`~casewatch.watchlist.writing.written_digest`) is a file casewatch wrote: each of
its cases was valid when written, and it is laid out as casewatch writes it (the schema,
then each case as a ``[[case]]`` table whose first line is its ``receipt_number``:
:func:`~casewatch.watchlist.toml.case_text`; a text never holds a line break, so every
line starting ``[[case]]`` is a header). Its headers are then enough to find the cases
to change: only those are parsed, and the new version is the old bytes with their texts
cut, replaced or appended (:func:`change_in_place`), in about 0.7 s with 100,000 cases
where parsing them all takes over 20 s; or its cases are parsed one after the other,
each used and dropped before the next (:func:`cases_one_by_one`).

Any other file (edited by hand, written inline ``case = [...]`` or with an older schema
by an older casewatch, saved before the digest was recorded, a newer schema, a file that
does not parse) is not changed here: :func:`change_in_place` returns None and the caller
reads it whole and saves as before (:meth:`Watchlist.load`, :meth:`Watchlist.save`),
with the same messages; its save records the digest, so the next change is quick.

The guarantees of a save (module :mod:`~casewatch.watchlist.store`) hold: the whole
change runs under the file lock (so another process's save waits and nothing it wrote
is lost), the version before is kept as ``<file>.bak``, the new one replaces the file
atomically (:func:`~casewatch.watchlist.writing.write_version`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

from casewatch.files import read_regular, require_private_folder
from casewatch.receipts import ReceiptNumber
from casewatch.watchlist import reading
from casewatch.watchlist.model import WatchedCase, WatchlistError
from casewatch.watchlist.reading import (
    CASE_SEPARATOR,
    WATCHLIST_MAX_BYTES,
    FileState,
    case_spans,
    read_file,
    restore_hint,
)
from casewatch.watchlist.store import Watchlist
from casewatch.watchlist.toml import PREAMBLE, case_text
from casewatch.watchlist.writing import (
    Piece,
    file_lock,
    holding,
    write_version,
    written_digest,
)

T = TypeVar("T")

_PREAMBLE = PREAMBLE.encode()
"""How a file casewatch writes starts; each case follows after an empty line."""

_RECEIPT_LINE = b'receipt_number = "'
"""How the first line of a case's table starts, as casewatch writes it."""

FIND_EACH_UP_TO = 8
"""Receipt numbers: up to this many are each looked for in the file's bytes (about 15 ms
each in 80 MB); more, and the cases' headers are read one by one (about 0.15 s for
100,000)."""

Spans = dict[str, tuple[int, int]]
"""Receipt number -> where its case is in the file's bytes: from the empty line before
its header to the empty line before the next case's (or the end)."""


def change_in_place(
    path: Path, receipts: Iterable[ReceiptNumber], change: Callable[[Watchlist], T]
) -> T | None:
    """Under the file lock, when ``path`` is a file casewatch wrote (see the module):
    call ``change`` with a :class:`Watchlist` of ``path`` holding only the cases of
    ``receipts`` that it watches (parsed alone), then write what ``change`` did to them
    (cases removed, changed, added at the end) into the file, the other cases kept byte
    for byte; returns what ``change`` returned. The file is not written when nothing
    changed.

    Returns None, having called nothing, when ``path`` is missing or is not a file
    casewatch wrote (its digest differs, its layout or schema is another, a case named
    does not parse): the caller then reads it whole (:meth:`Watchlist.load`), which says
    what is wrong with it. Raises :class:`OSError` when the file cannot be locked or
    written (it is then left as it was), and what ``change`` raises (nothing written).
    """
    try:  # else the whole read and save say what is wrong, as they did
        if not path.is_file():
            return None
        require_private_folder(path.parent)
    except OSError:
        return None
    with holding(file_lock(path), path):
        data = _written_by_casewatch(path)
        if data is None:
            return None
        spans = _spans_of(data, [receipt.value for receipt in receipts])
        before: dict[str, WatchedCase] = {}
        for key, span in spans.items():
            case = _case_at(data, span)
            if case is None or case.receipt_number.value != key:
                return None
            before[key] = case
        watchlist = Watchlist(path, dict(before))
        result = change(watchlist)
        pieces = _spliced(data, spans, before, watchlist.cases)
        if pieces is not None:
            write_version(path, pieces, keep_backup=True)
        return result


def cases_one_by_one(path: Path) -> Iterator[WatchedCase] | None:
    """The cases of ``path``, in file order, each parsed when it is asked for, when
    ``path`` is a file casewatch wrote (see the module): the first comes at once however
    long the file, and only the file's bytes stay in memory, not its cases. None when
    ``path`` is missing or is not a file casewatch wrote: read it whole
    (:meth:`Watchlist.load`), which says what is wrong with it.

    A case that does not parse (which a file casewatch wrote never holds, but for a
    fault of casewatch's) stops the iteration with :class:`WatchlistError`: the file's
    error as :meth:`Watchlist.load` gives it (its line and column), the cases before
    having been given.
    """
    data = _written_by_casewatch(path)
    return None if data is None else _parsed_each(data, path)


def _parsed_each(data: bytes, path: Path) -> Iterator[WatchedCase]:
    for number, span in enumerate(case_spans(data, data.find(CASE_SEPARATOR)), start=1):
        case = _case_at(data, span)
        if case is None:  # the whole file's message, with the line and column
            with suppress(OSError):
                read_file(path, FileState())
            raise WatchlistError(
                f"case {number} of the watchlist {path} cannot be read{restore_hint(path)}"
            )
        yield case


def _written_by_casewatch(path: Path) -> bytes | None:
    """The bytes of ``path`` when their SHA-256 is the digest casewatch recorded at its
    last save and they start with :data:`~casewatch.watchlist.toml.PREAMBLE` (this
    schema); None otherwise (no file, no digest, another digest, another schema, not
    readable). The digest vouches for the rest of the layout: each case after an empty
    line, its receipt number on the line after its header, and no receipt number twice."""
    try:
        found = read_regular(path, "the watchlist", WATCHLIST_MAX_BYTES)
    except OSError:
        return None  # Watchlist.load says what is wrong
    if found is None:
        return None
    data = found[0]
    recorded = written_digest(path)
    if recorded is None or hashlib.sha256(data).digest() != recorded:
        return None
    return data if data.startswith(_PREAMBLE) else None


def _spans_of(data: bytes, receipts: list[str]) -> Spans:
    """Where the cases of ``receipts`` that ``data`` (a file casewatch wrote) holds are."""
    if len(receipts) > FIND_EACH_UP_TO:
        wanted = set(receipts)
        skip = len(CASE_SEPARATOR) + len(_RECEIPT_LINE)
        spans = {
            data[start + skip : data.index(b'"', start + skip)].decode(): (start, end)
            for start, end in case_spans(data, data.find(CASE_SEPARATOR))
        }
        return {key: span for key, span in spans.items() if key in wanted}
    found: Spans = {}
    for key in receipts:
        start = data.find(b'%s%s%s"\n' % (CASE_SEPARATOR, _RECEIPT_LINE, key.encode()))
        if start >= 0:
            end = data.find(CASE_SEPARATOR, start + 1)
            found[key] = (start, end if end >= 0 else len(data))
    return found


def _case_at(data: bytes, span: tuple[int, int]) -> WatchedCase | None:
    """The case at ``span`` of ``data``, parsed alone as a file split at its headers is
    (:func:`~casewatch.watchlist.reading.read_cases`); None when it does not parse."""
    start, end = span
    try:
        chunk = data[start + 1 : end].decode("utf-8")  # from its header
    except UnicodeDecodeError:
        return None
    return reading._lone_case(chunk)


def _spliced(
    data: bytes, spans: Spans, before: dict[str, WatchedCase], after: dict[str, WatchedCase]
) -> list[Piece] | None:
    """The pieces of the new version of ``data`` (the file as it is): the cases of
    ``before`` that are not in ``after`` cut, those changed replaced in place, the others
    of ``after`` appended in their order; the rest copied from the file. None when
    nothing changed."""
    edits = sorted(
        (spans[key], b"" if key not in after else b"\n" + case_text(after[key]).encode())
        for key, case in before.items()
        if after.get(key) is not case
    )
    added = [b"\n" + case_text(case).encode() for key, case in after.items() if key not in before]
    if not edits and not added:
        return None
    pieces: list[Piece] = []
    position = 0
    for (start, end), text in edits:
        pieces += [(position, start), text]
        position = end
    return [*pieces, (position, len(data)), *added]
