"""Writing a new version of a watchlist file, under the file lock a save holds
(:meth:`casewatch.watchlist.store.Watchlist.save`): the temporary files of a save killed
before its rename are removed, the version before is kept as ``<file>.bak``
(:func:`~casewatch.watchlist.reading.backup_path`) and the new one replaces the file
atomically (:func:`casewatch.files.atomic_write_text`), so a crash at any moment leaves
the old file or the new one, whole, and a save that fails leaves the older backup as it
was. The SHA-256 of each version written is recorded in ``<file>.sha256``
(:func:`written_digest`): a file with that digest is one casewatch wrote, so
:mod:`~casewatch.watchlist.splice` may change a few of its cases without parsing the
others.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from casewatch.files import (
    atomic_write_text,
    make_parent_folder,
    read_regular,
    require_private_folder,
)
from casewatch.watchlist.model import WatchedCase
from casewatch.watchlist.reading import Places, backup_path, chunk_digest
from casewatch.watchlist.toml import PREAMBLE, case_text

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 30.0
"""Seconds a save waits for another process's save to finish before giving up."""


def file_lock(path: Path) -> FileLock:
    """The lock (``<file>.lock``) that every save of the watchlist ``path`` holds while it
    reads and writes the file (:func:`holding`)."""
    return FileLock(path.with_name(path.name + ".lock"), timeout=LOCK_TIMEOUT_S, thread_local=False)


@contextmanager
def holding(lock: FileLock, path: Path) -> Iterator[None]:
    """Hold ``lock``, the :func:`file_lock` of ``path``, in its folder, made first when
    missing and checked private (:func:`~casewatch.files.require_private_folder`).

    Raises :class:`OSError` naming the lock file when another casewatch holds it for over
    :data:`LOCK_TIMEOUT_S` seconds, :class:`~casewatch.files.UnsafeFileError` for a
    folder others can write to, :class:`OSError` when the folder cannot be made."""
    make_parent_folder(path)  # checked before the lock file is made there
    require_private_folder(path.parent)
    try:
        lock.acquire()
    except Timeout:
        raise OSError(
            f"cannot write {path}: another casewatch has held its lock "
            f"{lock.lock_file} for over {LOCK_TIMEOUT_S:g} seconds"
        ) from None
    try:
        yield
    finally:
        lock.release()


Piece = bytes | tuple[int, int]
"""A piece of a new version of a watchlist file: bytes, or the bytes from the first to
the past-the-last of the file as it is (the version before), copied as they are."""

COPY_CHUNK = 1024 * 1024
"""Bytes copied at a time from the version before (:data:`Piece`)."""


def file_pieces(cases: Iterable[WatchedCase], places: Places) -> tuple[list[Piece], Places]:
    """The watchlist file of ``cases``, in order, as pieces to write one after the other
    (:func:`write_version`), and where each case is in it: the text of a case that
    ``places`` holds copied from the file as it is (which those places are in), the
    others' made (:func:`~casewatch.watchlist.toml.case_text`). Nothing is joined, and
    the file is not held in memory: a save of 100,000 cases after one changed copies
    them from the file. Cases that follow each other in the file are one piece (each
    with the empty line before it, whose line feed is the byte before its place), so
    such a save writes three pieces, not 200,000."""
    pieces: list[Piece] = [PREAMBLE.encode()]
    written: Places = {}
    position = len(pieces[0])  # where the next case's empty line goes
    run_start = run_end = -1  # the bytes of the file copied as one piece, not yet in pieces
    for case in cases:
        place = places.get(id(case))
        if place is not None and place[0] is case:
            begin, end = place[1], place[2]  # the empty line before it is copied too
            if begin != run_end + 1:
                if run_end >= 0:
                    pieces.append((run_start, run_end))
                run_start = begin - 1
            run_end = end
            shift = position + 1 - begin
            written[id(case)] = place if not shift else (case, begin + shift, end + shift, place[3])
            position += 1 + end - begin
            continue
        if run_end >= 0:
            pieces.append((run_start, run_end))
            run_end = -1
        chunk = case_text(case).encode()
        pieces += [b"\n", chunk]
        written[id(case)] = (case, position + 1, position + 1 + len(chunk), chunk_digest(chunk))
        position += 1 + len(chunk)
    if run_end >= 0:
        pieces.append((run_start, run_end))
    return pieces, written


def write_version(path: Path, pieces: list[Piece], *, keep_backup: bool) -> bytes:
    """Replace the file ``path`` with ``pieces`` (:data:`Piece`: UTF-8 text, and ranges of
    the file as it is, copied :data:`COPY_CHUNK` bytes at a time), keeping the version
    before as its backup when ``keep_backup`` (there is one), and record its SHA-256 in
    ``<file>.sha256``. Blocking; call it under the file lock (:func:`holding`), the file
    as last read. Returns the SHA-256 digest of the file written.

    Raises :class:`OSError` when the file or the spare link to the version before cannot
    be written (the backup then stays the older version), or the version before is
    shorter than a range (changed by hand meanwhile: nothing is replaced); a backup or a
    digest that cannot be written is only logged, the save stands.
    """
    _remove_leftovers(path)
    spare = _link_spare(path) if keep_backup else None
    hasher = hashlib.sha256()
    try:
        atomic_write_text(path, _hashed(_bytes_of(path, pieces), hasher))
    except BaseException:
        if spare is not None:
            spare.unlink(missing_ok=True)  # the backup stays the older version
        raise
    if spare is not None:
        _keep_backup(spare, path)
    digest = hasher.digest()
    _record_digest(path, digest)
    return digest


def _bytes_of(path: Path, pieces: list[Piece]) -> Iterator[bytes]:
    """The bytes of ``pieces``, the ranges read from ``path`` (opened at the first)."""
    with ExitStack() as stack:
        before = None
        for piece in pieces:
            if isinstance(piece, bytes):
                yield piece
                continue
            if before is None:
                before = stack.enter_context(path.open("rb"))
            start, end = piece
            before.seek(start)
            while start < end:
                block = before.read(min(COPY_CHUNK, end - start))
                if not block:
                    raise OSError(f"{path} was cut short while it was saved: not saved")
                start += len(block)
                yield block


def _hashed(blocks: Iterable[bytes], hasher: hashlib._Hash) -> Iterator[bytes]:
    for block in blocks:
        hasher.update(block)
        yield block


def digest_path(path: Path) -> Path:
    """Where the SHA-256 of the version of the watchlist ``path`` that casewatch last wrote
    is kept, as ``sha256sum`` writes it (``sha256sum -c`` checks it)."""
    return path.with_name(path.name + ".sha256")


def written_digest(path: Path) -> bytes | None:
    """The SHA-256 digest of the version of the watchlist ``path`` that casewatch last
    wrote, from ``<file>.sha256``; None when there is none or it cannot be read (the file
    is then read whole, as any file casewatch did not write)."""
    try:
        found = read_regular(digest_path(path), "the watchlist's digest", 1024)
        return None if found is None else bytes.fromhex(found[0].split(maxsplit=1)[0].decode())
    except (OSError, ValueError, IndexError):
        return None


def _record_digest(path: Path, digest: bytes) -> None:
    # Written after the file: a crash between leaves the digest of the version before,
    # which no longer matches, so the next change reads the file whole. Not flushed to
    # disk for the same reason.
    try:
        atomic_write_text(digest_path(path), f"{digest.hex()}  {path.name}\n", durable=False)
    except OSError as exc:
        with suppress(OSError):
            digest_path(path).unlink(missing_ok=True)
        log.warning("cannot record the digest of %s (the next add reads it whole): %s", path, exc)


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
            atomic_write_text(spare, path.read_bytes())
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
