"""Reading a watchlist file: whole, with the file, line and column of any error, or split
at its ``[[case]]`` headers so that only the cases whose text changed are parsed again."""

from __future__ import annotations

import gc
import hashlib
import re
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import rtoml

from casewatch.files import MiB, TomlFileError, hash_regular, parse_toml, read_regular
from casewatch.receipts import ReceiptNumberError
from casewatch.watchlist.model import WatchedCase, WatchlistError
from casewatch.watchlist.toml import (
    HEADER,
    SCHEMA_VERSION,
    case_from_toml,
    migrate,
    toml_tables,
)

_CASE_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*case[ \t]*\]\]", re.MULTILINE)


CASE_HEADER_BYTES = re.compile(_CASE_HEADER.pattern.encode(), re.MULTILINE)


_INLINE_CASES_HINT = (
    ": the cases above are written as case = [ ... ] (as casewatch writes short ones); "
    "add a case inside those brackets, such as "
    '{ receipt_number = "EAC9999103403", added_at = 2026-11-29T09:30:00-05:00 },'
)


Stamp = tuple[int, int, int]
"""A file's (inode, size in bytes, modification time in nanoseconds): a cheap check
that it may have changed."""


Places = dict[int, tuple[WatchedCase, int, int, bytes]]
"""Where the text of each case is in the file as read or written, by the id of the case
object: the object itself (so its id is never another's while it is here), the first
and past-the-last byte of its ``[[case]]`` table (line feed included), and the BLAKE2b
digest of those bytes (:func:`chunk_digest`). A save copies the bytes of each case not
changed from the file (:func:`~casewatch.watchlist.writing.file_pieces`), so that the text
of every case is not kept in memory beside the case (issue 16, point 4: 155 MB for
100,000 cases); a read after another process's save knows by its digest a case it
holds already, and does not parse it again."""


@dataclass(frozen=True, slots=True)
class FileState:
    """The watchlist file as this process last read or wrote it: the SHA-256 of its
    bytes and its :data:`Stamp` (both None when there was no file) and its cases, the
    base of the next merge, and where each is in the file (:data:`Places`; none for a
    file written by hand). After a read that failed to parse, ``cases`` is empty, so
    the repaired file is merged as a union: nothing of either side is dropped."""

    digest: bytes | None = None
    stamp: Stamp | None = None
    cases: Mapping[str, WatchedCase] = field(default_factory=dict)
    places: Places = field(default_factory=dict)


def chunk_digest(chunk: bytes | memoryview) -> bytes:
    """The digest that tells a case's ``[[case]]`` table from another's (:data:`Places`):
    BLAKE2b of its bytes, 16 bytes (collisions: one chance in 2**64 among 100,000 cases)."""
    return hashlib.blake2b(chunk, digest_size=16).digest()


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
        raise WatchlistError(f"{exc}{hint}{restore_hint(path)}") from None
    cases: dict[str, WatchedCase] = {}
    try:
        tables = toml_tables(data.get("case", []), "case")
    except TypeError as exc:
        raise WatchlistError(f"the watchlist {path}: {exc}") from None
    headers = _header_lines(text)
    for index, raw in enumerate(tables, start=1):
        where = f"case {index}" + (
            f" (line {headers[index - 1]})" if len(headers) == len(tables) else ""
        )
        try:
            case = case_from_toml(raw)
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


WATCHLIST_MAX_BYTES = 1024 * MiB
"""The largest watchlist file read, in bytes: a case with a long history and a few
changes takes about 4 kB, so 100,000 such cases fit with room to spare."""


def file_stamp(path: Path) -> Stamp | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def read_file(path: Path, base: FileState) -> FileState:
    """The watchlist file now; ``base``'s cases when its bytes are the same (no parse),
    and ``base``'s object for each case that did not change.

    Raises :class:`WatchlistError` for a file that does not parse, :class:`OSError` for
    one that cannot be read (:class:`~casewatch.files.UnsafeFileError` for one that is not
    a regular file or is larger than :data:`WATCHLIST_MAX_BYTES`).
    """
    found = read_regular(path, "the watchlist", WATCHLIST_MAX_BYTES)
    if found is None:
        return FileState()
    data, info = found
    stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
    digest = hashlib.sha256(data).digest()
    if digest == base.digest:
        return FileState(digest, stamp, base.cases, base.places)
    return FileState(digest, stamp, *read_cases(data, path, base))


def read_current(path: Path, base: FileState) -> FileState:
    """:func:`read_file`, the file hashed a mebibyte at a time first: when its bytes are
    ``base``'s (no other process wrote), ``base``'s state, without the file held in
    memory (a save of 100,000 cases copies them from the file as it writes,
    :func:`~casewatch.watchlist.writing.write_version`). Raises as :func:`read_file`
    does."""
    found = hash_regular(path, "the watchlist", WATCHLIST_MAX_BYTES)
    if found is None:
        return FileState()
    digest, info = found
    if digest == base.digest:
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        return FileState(digest, stamp, base.cases, base.places)
    return read_file(path, base)


def read_cases(data: bytes, path: Path, base: FileState) -> tuple[dict[str, WatchedCase], Places]:
    """The cases of the watchlist file ``data`` (read from ``path``) and where each is
    (:data:`Places`); for each case the file did not change, ``base``'s object (by its
    digest, else by its value), so that cases compare by identity (:func:`merge_cases`).

    A file as casewatch writes it is split at its ``[[case]]`` headers and each case
    parsed alone (a case whose digest ``base`` holds is not parsed again); any other file
    (written by hand, inline, not valid, with an older schema) is parsed whole by
    :func:`parse_watchlist`, with its errors and their positions, and no places kept.
    Raises :class:`WatchlistError` as :func:`parse_watchlist` does, and for a file that
    is not UTF-8.
    """
    split = _split_cases(data, base)
    if split is not None:
        return split
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WatchlistError(
            f"the watchlist {path} is not UTF-8 text (byte {exc.start}): save it as UTF-8"
            f"{restore_hint(path)}"
        ) from None
    known = base.cases
    cases = {
        key: old if (old := known.get(key)) is not None and old == case else case
        for key, case in parse_watchlist(text, path).items()
    }
    return cases, {}


CASE_SEPARATOR = f"\n{HEADER}".encode()
"""The line feed of the empty line before a case and its header, as casewatch writes
them."""


def case_spans(data: bytes, start: int) -> Iterator[tuple[int, int]]:
    """Where each case of ``data`` (a file as casewatch writes it) is, in file order, from
    the :data:`CASE_SEPARATOR` at ``start`` (-1: none): from its separator to the next
    one, or the end. Each found when asked for: no list of them all is made."""
    while start >= 0:
        end = data.find(CASE_SEPARATOR, start + 1)
        yield start, end if end >= 0 else len(data)
        start = end


def _split_cases(data: bytes, base: FileState) -> tuple[dict[str, WatchedCase], Places] | None:
    """:func:`read_cases` of a file as casewatch writes it: its schema first, then
    ``[[case]]`` tables each starting a line. None when the file is not so, or when
    anything in it is wrong, for :func:`parse_watchlist` to say where.

    Each case's text is a whole TOML document of its own (a table header under an array
    of tables belongs to its last element), checked to hold that one case and nothing
    else; a header-like line inside a multi-line string cuts the string, which fails.
    The cases are cut out of the bytes one at a time, and each decoded alone: neither a
    list of them all nor the whole file as text is made.
    """
    first = data.find(CASE_SEPARATOR)
    try:
        document = tomllib.loads((data if first < 0 else data[:first]).decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if document.get("schema") != SCHEMA_VERSION or "case" in document:
        return None  # an older schema is migrated whole
    by_digest = {digest: case for case, _, _, digest in base.places.values()}
    cases: dict[str, WatchedCase] = {}
    places: Places = {}
    with paused_collection(cases):
        for start, end in case_spans(data, first):
            begin = start + 1  # from its header
            chunk = data[begin:end].rstrip(b"\n") + b"\n"
            digest = chunk_digest(chunk)
            case = by_digest.get(digest)
            if case is None:
                try:
                    case = _lone_case(chunk.decode("utf-8"))
                except UnicodeDecodeError:
                    return None
                if case is None:
                    return None
                old = base.cases.get(case.receipt_number.value)
                case = old if old is not None and old == case else case
            if case.receipt_number.value in cases:
                return None
            cases[case.receipt_number.value] = case
            if data.startswith(chunk, begin):  # not the last line without its line feed
                places[id(case)] = (case, begin, begin + len(chunk), digest)
    return cases, places


FREEZE_FROM_CASES = 20_000
"""Cases: a file read with at least this many has them kept out of the garbage
collector's sight afterwards (:func:`paused_collection`); below, a full collection
goes through them in under 0.1 s, and freezing (which also keeps whatever else is alive
at that moment out of its sight for good) is not worth it."""


@contextmanager
def paused_collection(cases: Mapping[str, WatchedCase]) -> Iterator[None]:
    """Python's cyclic garbage collector paused (if it ran) while ``cases`` are made,
    and then, when they are :data:`FREEZE_FROM_CASES` or more, kept out of its sight
    (``gc.freeze``).

    Cases hold no reference cycles, so the collector has nothing to find in them, but
    it would go through them all again and again: while they are made (set off by
    every 700 new objects: a third of the time of reading 100,000 cases), and at each
    full collection while they are held (about half a second for 100,000 cases, the
    dashboard's keys waiting). Frozen objects are still freed when no longer used.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if len(cases) >= FREEZE_FROM_CASES:
            gc.freeze()
        if enabled:
            gc.enable()


def _lone_case(chunk: str) -> WatchedCase | None:
    """The case of ``chunk``, a TOML document holding one ``[[case]]`` table and nothing
    else; None when it is not that, or the case is not valid.

    Parsed by rtoml (Rust's toml crate), four times quicker than tomllib on a case's
    table (40 against 170 microseconds): 100,000 cases are read in seconds (issue 16,
    point 4). A chunk it refuses makes the whole file go to :func:`parse_watchlist`,
    whose tomllib says where the error is.
    """
    try:
        document = rtoml.loads(chunk)
    except rtoml.TomlParsingError:
        return None
    tables = document.get("case")
    if len(document) != 1 or not isinstance(tables, list) or len(tables) != 1:
        return None  # another table, or more cases (headers not written as casewatch does)
    try:
        return case_from_toml(tables[0])
    except (ReceiptNumberError, TypeError, ValueError):
        return None


def restore_hint(path: Path) -> str:
    backup = backup_path(path)
    return (
        f"; or put back the version before the last save: cp {backup} {path}"
        if backup.exists()
        else ""
    )


def backup_path(path: Path) -> Path:
    """Where the version of the watchlist ``path`` before the last save is kept."""
    return path.with_name(path.name + ".bak")
