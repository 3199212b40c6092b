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
from contextlib import contextmanager, suppress
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


NEWLINE = ord("\n")


def file_pieces(
    cases: Iterable[WatchedCase], places: Places, data: bytes
) -> tuple[list[bytes | memoryview], Places]:
    """The watchlist file of ``cases``, in order, as pieces of bytes to write one after
    the other (:func:`write_version`), and where each case is in it: the text of a case
    that ``places`` holds copied from the file ``data`` those places are in, the others'
    made (:func:`~casewatch.watchlist.toml.case_text`). Nothing is joined: a save of
    100,000 cases after one changed holds no second copy of the file. Cases that follow
    each other in ``data`` are one piece (each with the empty line before it), so such a
    save writes and hashes three pieces, not 200,000 (0.2 s less)."""
    view = memoryview(data)
    pieces: list[bytes | memoryview] = [PREAMBLE.encode()]
    written: Places = {}
    position = len(pieces[0])  # where the next case's empty line goes in the new file
    run_start = run_end = -1  # the bytes of data copied as one piece, not yet in pieces
    for case in cases:
        place = places.get(id(case))
        if place is not None and place[0] is case and data[place[1] - 1] == NEWLINE:
            begin, end = place[1], place[2]  # the empty line before it is copied too
            if begin != run_end + 1:
                if run_end >= 0:
                    pieces.append(view[run_start:run_end])
                run_start = begin - 1
            run_end = end
            shift = position + 1 - begin
            written[id(case)] = place if not shift else (case, begin + shift, end + shift, place[3])
            position += 1 + end - begin
            continue
        if run_end >= 0:
            pieces.append(view[run_start:run_end])
            run_end = -1
        chunk = case_text(case).encode()
        pieces += [b"\n", chunk]
        written[id(case)] = (case, position + 1, position + 1 + len(chunk), chunk_digest(chunk))
        position += 1 + len(chunk)
    if run_end >= 0:
        pieces.append(view[run_start:run_end])
    return pieces, written


def write_version(path: Path, data: list[bytes | memoryview], *, keep_backup: bool) -> bytes:
    """Replace the file ``path`` with ``data`` (UTF-8 text in pieces, written one after
    the other), keeping the version before as its backup when ``keep_backup`` (there is
    one), and record its SHA-256 in ``<file>.sha256``. Blocking; call it under the file
    lock (:func:`holding`). Returns the SHA-256 digest of the file written.

    Raises :class:`OSError` when the file or the spare link to the version before cannot
    be written (the backup then stays the older version); a backup or a digest that
    cannot be written is only logged, the save stands.
    """
    _remove_leftovers(path)
    spare = _link_spare(path) if keep_backup else None
    try:
        atomic_write_text(path, data)
    except BaseException:
        if spare is not None:
            spare.unlink(missing_ok=True)  # the backup stays the older version
        raise
    if spare is not None:
        _keep_backup(spare, path)
    hasher = hashlib.sha256()
    for piece in data:
        hasher.update(piece)
    digest = hasher.digest()
    _record_digest(path, digest)
    return digest


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
