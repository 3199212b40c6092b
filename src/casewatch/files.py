"""Reading the TOML files casewatch is given, and writing the files it owns without ever
leaving a half-written one."""

from __future__ import annotations

import errno
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any


def atomic_write_text(
    path: Path,
    text: str,
    *,
    mode: int = 0o600,
    durable: bool = True,
    make_folder: bool = True,
) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically: a temporary file in the same
    directory, flushed to disk (unless ``durable`` is False: for state that is rewritten
    every fraction of a second and cheap to lose), then renamed over the target.

    Readers see the old content or the new, never a mix. Creates missing parent
    directories, unless ``make_folder`` is False (a file the user named, such as an
    export: a mistyped folder is an error naming it, not a new folder); the file gets
    permission bits ``mode``. Raises :class:`OSError` (disk full, read-only directory, a
    missing folder, ...) with the target left as it was.
    """
    try:
        if make_folder:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.parent.is_dir():
            raise OSError(
                errno.ENOENT,
                f"the folder {path.parent} does not exist: create it, or choose another folder",
            )
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        tmp.chmod(mode)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _cannot_write(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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


def read_toml(path: Path, what: str) -> dict[str, Any] | None:
    """The TOML document at ``path``, or None when there is no such file.

    ``what`` names the file in messages ("the watchlist"). Raises
    :class:`TomlFileError` for a file that cannot be read or is not valid TOML; the
    message then names the file, the line and the column and says to fix that line.
    Never writes the file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise TomlFileError(f"cannot read {what} {path}: {exc}", path) from None
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
