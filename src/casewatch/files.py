"""Reading the files casewatch is given, and writing the files it owns without ever
leaving a half-written one.

Only regular files are read or written: a device, a named pipe (FIFO), a socket or a
folder named where a file belongs is refused with a message, before anything is read or
replaced, and what is read is bounded. Files are saved only into folders that no other
user can write to (unless the folder is sticky, as ``/tmp`` is), because a file being
saved in such a folder could be swapped for another under casewatch's hands.
"""

from __future__ import annotations

import errno
import grp
import hashlib
import os
import pwd
import re
import stat
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

MiB = 1024 * 1024

TOML_MAX_BYTES = 1 * MiB
"""The largest config, theme or dashboard state file read, in bytes (they hold a few
lines)."""


class UnsafeFileError(OSError):
    """A file casewatch refuses to read or write: not a regular file, larger than the
    bound of what is read, or in a place other users can change (a folder they can write
    to, a symbolic link of theirs). The message says what is wrong and how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EPERM, message)

    def __str__(self) -> str:
        return self.strerror or ""


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


def _named(path: Path, what: str) -> str:
    return f"{what} {path}" if what else str(path)


def _require_regular(path: Path, info: os.stat_result, what: str = "") -> None:
    if stat.S_ISREG(info.st_mode):
        return
    kind = next((kind for test, kind in _KINDS if test(info.st_mode)), "not a file")
    raise UnsafeFileError(
        f"{_named(path, what)} is {kind}, not a regular file: casewatch reads and writes "
        "regular files only; name a regular file instead (a new name is created)"
    )


def read_regular(path: Path, what: str, limit: int) -> tuple[bytes, os.stat_result] | None:
    """The bytes of the regular file ``path`` (a symbolic link to one is followed) and
    its status as read (``os.fstat``); None when there is no such file.

    ``what`` names the file in messages ("the watchlist"); ``limit`` is the most bytes
    read. The file is opened non-blocking and checked on the open descriptor before a
    byte is read, so a named pipe cannot hang the read. Raises :class:`UnsafeFileError`
    for anything but a regular file or a file larger than ``limit``, :class:`OSError`
    when it cannot be read.
    """
    chunks: list[bytes] = []
    info = _read_regular(path, what, limit, chunks.append, None)
    return None if info is None else (b"".join(chunks), info)


def hash_regular(path: Path, what: str, limit: int) -> tuple[bytes, os.stat_result] | None:
    """The SHA-256 digest of the regular file ``path`` and its status, as
    :func:`read_regular` would read it, a mebibyte at a time: the file is never held in
    memory whole (a watchlist of 100,000 cases is 80 to 155 MB). Raises as
    :func:`read_regular` does."""
    hasher = hashlib.sha256()
    info = _read_regular(path, what, limit, hasher.update, MiB)
    return None if info is None else (hasher.digest(), info)


def _read_regular(
    path: Path, what: str, limit: int, take: Callable[[bytes], object], chunk: int | None
) -> os.stat_result | None:
    """What :func:`read_regular` and :func:`hash_regular` share: each ``chunk`` bytes read
    (None: the whole file in one read as a rule) given to ``take``, the file's status
    returned (None: no file)."""
    try:
        _require_regular(path, os.stat(path), what)  # a device is not even opened
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        info = os.fstat(fd)
        _require_regular(path, info, what)  # it may have been swapped since the stat
        size = info.st_size
        if size <= limit:  # more reads for a file growing meanwhile
            size, wanted = 0, chunk or info.st_size + 1
            while size <= limit and (data := os.read(fd, min(limit + 1 - size, wanted))):
                take(data)
                size += len(data)
                wanted = chunk or MiB
    finally:
        os.close(fd)
    if size > limit:
        raise UnsafeFileError(
            f"{_named(path, what)} is larger than {limit / MiB:g} MB, more than casewatch "
            "reads of it: check that this is the right file"
        )
    return info


def _others_who_can_write(info: os.stat_result) -> str | None:
    """Who other than the owner can write to a file or folder of status ``info``: "any
    user", "the group NAME", or None. A group-writable one is the owner's alone when the
    group has no other member, as OpenSSH's StrictModes has it on systems that give each
    user a group of their own."""
    if info.st_mode & stat.S_IWOTH:
        return "any user"
    if not info.st_mode & stat.S_IWGRP:
        return None
    try:
        group = grp.getgrgid(info.st_gid)
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        return f"the group {info.st_gid}"
    primary = {user.pw_name for user in pwd.getpwall() if user.pw_gid == info.st_gid}
    if (primary | set(group.gr_mem)) <= {owner}:
        return None
    return f"the group {group.gr_name}"


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def check_trusted(path: Path, info: os.stat_result, what: str) -> None:
    """Refuse ``path`` (status ``info``) unless only the invoking user (or root) can
    change it, as OpenSSH's StrictModes does: it is owned by the user or root, and
    neither it nor its folder can be written by others (a sticky folder, as ``/tmp``,
    is fine). For a file whose content casewatch acts on (the config file's ``on_change``
    runs a command). Raises :class:`UnsafeFileError` with the ``chown``/``chmod`` fix.
    """
    me = os.geteuid()
    if info.st_uid not in (me, 0):
        raise UnsafeFileError(
            f"{_named(path, what)} belongs to another user (uid {info.st_uid}), who could "
            f"make casewatch run a command as you; make it yours: chown {_user_name(me)} {path}"
        )
    if who := _others_who_can_write(info):
        raise UnsafeFileError(
            f"{_named(path, what)} can be changed by {who}, who could make casewatch run a "
            f"command as you; make it yours alone with: chmod 600 {path}"
        )
    for folder in {path.parent, Path(os.path.realpath(path)).parent}:
        require_private_folder(folder)


def require_private_folder(folder: Path) -> None:
    """Refuse ``folder`` unless it is sticky (as ``/tmp``: others may not rename or
    remove what is not theirs) or only the user or root can change it: owned by one of
    them, and writable by no one else (:func:`_others_who_can_write`). Others could
    swap a file casewatch saves or reads there. Raises :class:`UnsafeFileError` saying
    how to fix it, :class:`OSError` when the folder cannot be examined."""
    info = os.stat(folder)
    if info.st_mode & stat.S_ISVTX:
        return
    if info.st_uid not in (os.geteuid(), 0):
        raise UnsafeFileError(
            f"the folder {folder} belongs to another user (uid {info.st_uid}), who could "
            "swap the file casewatch keeps there: choose a folder of yours"
        )
    if who := _others_who_can_write(info):
        raise UnsafeFileError(
            f"the folder {folder} can be written by {who} and is not sticky, so another "
            "user could swap the file casewatch keeps there: choose a private folder, or "
            f"make this one private (chmod go-w {folder}) or sticky (chmod +t {folder})"
        )


def _write_target(path: Path) -> Path:
    """The file a save to ``path`` replaces: ``path`` when it is a regular file or does
    not exist; for a symbolic link of the user's (or root's), the regular file it names
    (so the link stays a link). Raises :class:`UnsafeFileError` for anything else, or a
    link another user made (it could name any file of the user's)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path
    if not stat.S_ISLNK(info.st_mode):
        _require_regular(path, info)
        return path
    if info.st_uid not in (os.geteuid(), 0):
        raise UnsafeFileError(
            f"{path} is a symbolic link made by another user (uid {info.st_uid}): casewatch "
            "does not write through it; name the file itself, or another name"
        )
    try:
        target = Path(os.path.realpath(path, strict=True))
    except OSError:
        raise UnsafeFileError(
            f"{path} is a symbolic link to {os.readlink(path)}, which does not lead to a "
            "file: create that file, or name another"
        ) from None
    _require_regular(target, os.stat(target))
    return target


def make_parent_folder(path: Path) -> None:
    """Create the folder of ``path`` and its parents where missing. Raises
    :class:`OSError` ("cannot write PATH: ...") when that fails."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def atomic_write_text(
    path: Path,
    text: str | bytes | Iterable[bytes | memoryview],
    *,
    mode: int = 0o600,
    durable: bool = True,
    make_folder: bool = True,
) -> None:
    """Replace ``path`` with ``text`` (UTF-8; bytes, or pieces of bytes, are written as
    they are, the pieces as they come) atomically: a temporary file in the same
    directory, flushed to disk (unless ``durable`` is False: for state that is rewritten
    every fraction of a second and cheap to lose), then renamed over the target.

    Readers see the old content or the new, never a mix. Creates missing parent
    directories, unless ``make_folder`` is False (a file the user named, such as an
    export: a mistyped folder is an error naming it, not a new folder). The temporary
    file is created with ``O_EXCL | O_NOFOLLOW`` (``tempfile.mkstemp``) and given its
    permission bits ``mode`` on its descriptor, never by name. A symbolic link of the
    user's is followed: the file it names is replaced. Raises :class:`UnsafeFileError`
    for a target that is not a regular file or a folder others can write to
    (:func:`require_private_folder`), :class:`OSError` (disk full, read-only directory,
    a missing folder, ...) with the target left as it was.
    """
    if make_folder:
        make_parent_folder(path)
    elif not path.parent.is_dir():
        raise _cannot_write(
            path,
            OSError(
                errno.ENOENT,
                f"the folder {path.parent} does not exist: create it, or choose another folder",
            ),
        )
    try:
        target = _write_target(path)
        require_private_folder(target.parent)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except UnsafeFileError:
        raise
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.writelines(_pieces(text))
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _cannot_write(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _pieces(text: str | bytes | Iterable[bytes | memoryview]) -> Iterable[bytes | memoryview]:
    if isinstance(text, str):
        return [text.encode("utf-8")]
    return [text] if isinstance(text, bytes) else text


def os_error_message(exc: OSError) -> str:
    """The words of ``exc`` for a person, without Python's ``[Errno N]``: its message,
    and the file it names if any."""
    if exc.strerror is None:
        return str(exc)
    return f"{exc.strerror}: {exc.filename}" if exc.filename is not None else exc.strerror


def _cannot_write(path: Path, exc: OSError) -> OSError:
    return OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}")


class TomlFileError(ValueError):
    """A TOML file that cannot be read or parsed; the message names it and the problem.

    ``path`` is the file; ``line`` and ``column`` (counted from 1) locate a syntax
    error, both None when the file could not be read at all.
    """

    def __init__(
        self, message: str, path: Path, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_END = re.compile(r"\s*\(at end of document\)$")


def _toml_error_position(text: str, exc: tomllib.TOMLDecodeError) -> tuple[str, int, int]:
    """tomllib's problem without its position, and the position: (problem, line, column),
    counted from 1. Python 3.11 gives the position only inside the message ("(at line 3,
    column 9)", or "(at end of document)": the last character of ``text``)."""
    message = str(exc)
    if found := _TOML_POSITION.search(message):
        return message[: found.start()], int(found[1]), int(found[2])
    lines = text.split("\n")
    return _TOML_END.sub("", message), len(lines), len(lines[-1]) + 1


def read_toml(path: Path, what: str, *, trusted: bool = False) -> dict[str, Any] | None:
    """The TOML document at ``path``, or None when there is no such file.

    ``what`` names the file in messages ("the watchlist"). With ``trusted``, the file
    must be one only the user can change (:func:`check_trusted`). Raises
    :class:`TomlFileError` for a file that cannot be read (not a regular file, larger
    than :data:`TOML_MAX_BYTES`, not trusted) or is not valid TOML; the message then
    names the file, the line and the column and says to fix that line. Never writes
    the file.
    """
    try:
        found = read_regular(path, what, TOML_MAX_BYTES)
        if found is not None and trusted:
            check_trusted(path, found[1], what)
    except UnsafeFileError as exc:
        raise TomlFileError(str(exc), path) from None
    except OSError as exc:
        raise TomlFileError(f"cannot read {what} {path}: {os_error_message(exc)}", path) from None
    if found is None:
        return None
    try:
        text = found[0].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TomlFileError(
            f"{what} {path} is not UTF-8 text (byte {exc.start}): save it as UTF-8", path
        ) from None
    return parse_toml(text, path, what)


def parse_toml(text: str, path: Path, what: str) -> dict[str, Any]:
    """The TOML document ``text``, read from ``path`` (named ``what`` in messages).

    Raises :class:`TomlFileError` with the line and the column of a syntax error.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem, line, column = _toml_error_position(text, exc)
        raise TomlFileError(
            f"{what} {path} is not valid TOML: line {line}, column {column}: {problem}. "
            f"Fix line {line} in a text editor",
            path,
            line,
            column,
        ) from None
