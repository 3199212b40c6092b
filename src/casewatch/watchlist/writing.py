"""Writing a new version of a watchlist file, under the file lock a save holds
(:meth:`casewatch.watchlist.store.Watchlist.save`): the temporary files of a save killed
before its rename are removed, the version before is kept as ``<file>.bak``
(:func:`~casewatch.watchlist.reading.backup_path`) and the new one replaces the file
atomically (:func:`casewatch.files.atomic_write_text`), so a crash at any moment leaves
the old file or the new one, whole, and a save that fails leaves the older backup as it
was.
"""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path

from casewatch.files import atomic_write_text
from casewatch.watchlist.reading import backup_path

log = logging.getLogger(__name__)


def write_version(path: Path, text: str, *, keep_backup: bool) -> None:
    """Replace the file ``path`` with ``text`` (UTF-8), keeping the version before as its
    backup when ``keep_backup`` (there is one). Blocking; call it under the file lock.

    Raises :class:`OSError` when the file or the spare link to the version before cannot
    be written (the backup then stays the older version); a backup that cannot take the
    place of the older one is only logged, the save stands.
    """
    _remove_leftovers(path)
    spare = _link_spare(path) if keep_backup else None
    try:
        atomic_write_text(path, text)
    except BaseException:
        if spare is not None:
            spare.unlink(missing_ok=True)  # the backup stays the older version
        raise
    if spare is not None:
        _keep_backup(spare, path)


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
