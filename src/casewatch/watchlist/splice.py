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
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

from casewatch.files import read_regular, require_private_folder
from casewatch.receipts import ReceiptNumber
from casewatch.watchlist.model import WatchedCase, WatchlistError
from casewatch.watchlist.reading import (
    WATCHLIST_MAX_BYTES,
    FileState,
    read_cases,
    read_file,
    restore_hint,
)
from casewatch.watchlist.store import Watchlist
from casewatch.watchlist.toml import PREAMBLE, case_text
from casewatch.watchlist.writing import file_lock, holding, write_version, written_digest

T = TypeVar("T")

_PREAMBLE = PREAMBLE.encode()
"""How a file casewatch writes starts; each case follows after an empty line."""

_CASE_START = re.compile(rb'\n\[\[case\]\]\nreceipt_number = "([0-9A-Z]+)"\n')
"""The empty line before a case, its header and its receipt number, as casewatch writes
them."""


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
        spans = None if data is None else _case_spans(data)
        if data is None or spans is None:
            return None
        before: dict[str, WatchedCase] = {}
        for receipt in receipts:
            span = spans.get(receipt.value)
            if span is not None:
                case = _case_at(data, span, path)
                if case is None or case.receipt_number.value != receipt.value:
                    return None
                before[receipt.value] = case
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
    spans = None if data is None else _case_spans(data)
    if data is None or spans is None:
        return None
    return _parsed_each(data, spans, path)


def _parsed_each(data: bytes, spans: Spans, path: Path) -> Iterator[WatchedCase]:
    for number, span in enumerate(spans.values(), start=1):
        case = _case_at(data, span, path)
        if case is None:  # the whole file's message, with the line and column
            with suppress(OSError):
                read_file(path, FileState())
            raise WatchlistError(
                f"case {number} of the watchlist {path} cannot be read{restore_hint(path)}"
            )
        yield case


def _written_by_casewatch(path: Path) -> bytes | None:
    """The bytes of ``path`` when their SHA-256 is the digest casewatch recorded at its
    last save; None otherwise (no file, no digest, another digest, not readable)."""
    try:
        found = read_regular(path, "the watchlist", WATCHLIST_MAX_BYTES)
    except OSError:
        return None  # Watchlist.load says what is wrong
    if found is None:
        return None
    data = found[0]
    recorded = written_digest(path)
    return data if recorded is not None and hashlib.sha256(data).digest() == recorded else None


def _case_spans(data: bytes) -> Spans | None:
    """Where each case of ``data`` is (:data:`Spans`), in file order; None when ``data``
    is not laid out as casewatch writes it (:data:`~casewatch.watchlist.toml.PREAMBLE`
    first), or lists a receipt number twice."""
    if not data.startswith(_PREAMBLE):
        return None
    starts = [(match.start(), match.group(1).decode()) for match in _CASE_START.finditer(data)]
    headers = data.count(b"\n[[case]]")
    first = starts[0][0] if starts else len(data)
    if first != len(_PREAMBLE) or headers != len(starts):
        return None
    ends = [start for start, _ in starts[1:]] + [len(data)]
    spans = {receipt: (start, end) for (start, receipt), end in zip(starts, ends, strict=True)}
    return spans if len(spans) == len(starts) else None


def _case_at(data: bytes, span: tuple[int, int], path: Path) -> WatchedCase | None:
    """The case at ``span`` of ``data``, parsed alone; None when it does not parse."""
    start, end = span
    try:
        (case,) = read_cases(_PREAMBLE + data[start:end], path, FileState())[0].values()
    except (WatchlistError, ValueError):
        return None
    return case


def _spliced(
    data: bytes, spans: Spans, before: dict[str, WatchedCase], after: dict[str, WatchedCase]
) -> list[bytes | memoryview] | None:
    """The pieces of the new version of ``data``: the cases of ``before`` that are not
    in ``after`` cut, those changed replaced in place, the others of ``after`` appended
    in their order. None when nothing changed."""
    edits = sorted(
        (spans[key], b"" if key not in after else b"\n" + case_text(after[key]).encode())
        for key, case in before.items()
        if after.get(key) is not case
    )
    added = [b"\n" + case_text(case).encode() for key, case in after.items() if key not in before]
    if not edits and not added:
        return None
    whole = memoryview(data)  # pieces of it, not copies
    pieces: list[bytes | memoryview] = []
    position = 0
    for (start, end), text in edits:
        pieces += [whole[position:start], text]
        position = end
    return [*pieces, whole[position:], *added]
