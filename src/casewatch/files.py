"""Reading the TOML files casewatch is given, and writing the files it owns without ever
leaving a half-written one."""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any


def atomic_write_text(path: Path, text: str, *, mode: int = 0o600, durable: bool = True) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically: a temporary file in the same
    directory, flushed to disk (unless ``durable`` is False: for state that is rewritten
    every fraction of a second and cheap to lose), then renamed over the target.

    Readers see the old content or the new, never a mix. Creates missing parent
    directories; the file gets permission bits ``mode``. Raises :class:`OSError` (disk
    full, read-only directory, ...) with the target left as it was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
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


def _cannot_write(path: Path, exc: OSError) -> OSError:
    return OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}")


class TomlFileError(ValueError):
    """A TOML file that cannot be read or parsed; the message names it and the problem."""


def read_toml(path: Path, what: str) -> dict[str, Any] | None:
    """The TOML document at ``path``, or None when there is no such file.

    ``what`` names the file in messages ("the watchlist"). Raises
    :class:`TomlFileError` for a file that cannot be read or is not valid TOML (with
    tomllib's line and column). Never writes the file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise TomlFileError(f"cannot read {what} {path}: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlFileError(f"{what} {path} is not valid TOML: {exc}") from None
