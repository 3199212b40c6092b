"""What the command-line modules (``cli``, ``verbs``) share: the settings of the parsed
options, the one-line failure message on stderr, receipt numbers read from the
arguments, and the watchlist file the watchlist verbs read and save. No heavy imports:
``casewatch check`` starts fast."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from casewatch.check import EXIT_USAGE
from casewatch.config import Settings, load_settings
from casewatch.files import atomic_write_text, os_error_message
from casewatch.receipts import ReceiptNumber, ReceiptNumberError, parse_receipt_number
from casewatch.watchlist import Watchlist, WatchlistError
from casewatch.watchlist.splice import change_in_place

T = TypeVar("T")


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings of the parsed global options (``--env``, ``--base-url``, ...), the
    environment and the config file (:func:`casewatch.config.load_settings`).

    Raises :class:`casewatch.config_file.ConfigError` for a bad setting or config file."""
    return load_settings(
        environment=getattr(args, "env", None),
        base_url=getattr(args, "base_url", None),
        tps=getattr(args, "tps", None),
        daily_quota=getattr(args, "daily_quota", None),
        refresh_minutes=getattr(args, "refresh_minutes", None),
        watchlist=getattr(args, "watchlist", None),
        config_path=getattr(args, "config", None),
        theme=getattr(args, "theme", None),
        limits_url=getattr(args, "limits_url", None),
    )


def terminal_width() -> int | None:
    """The width in characters of the terminal standard output writes to
    (:func:`shutil.get_terminal_size`: ``COLUMNS`` first), or None when standard output is
    not a terminal (a pipe, a file): then a table is printed whole."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def fail(message: object, code: int = EXIT_USAGE) -> int:
    """Say ``casewatch: message`` on stderr; returns ``code``, the exit status (default
    2, a usage error)."""
    print(f"casewatch: {message}", file=sys.stderr)
    return code


def parse_receipts(texts: Sequence[str]) -> list[ReceiptNumber] | None:
    """The receipts of ``texts``, in order, without repeats; None (after reporting each
    problem on stderr) when one is malformed. Unknown prefixes are warnings."""
    receipts: list[ReceiptNumber] = []
    problems: list[str] = []
    for text in texts:
        try:
            receipt = parse_receipt_number(text)
        except ReceiptNumberError as exc:
            problems.append(str(exc))
            continue
        for warning in receipt.warnings:
            print(f"casewatch: warning: {receipt}: {warning}", file=sys.stderr)
        if receipt not in receipts:
            receipts.append(receipt)
    for problem in problems:
        fail(problem)
    return None if problems else receipts


def add_output_option(parser: argparse.ArgumentParser) -> None:
    """``--output FILE``, for a verb that writes a file (:func:`write_output`)."""
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write to FILE (replaced atomically; its folder must exist) instead of standard "
        "output",
    )


def write_output(output: Path | None, text: str, done: str) -> int:
    """Write ``text`` to standard output, or with ``output`` to that regular file,
    replaced atomically in a folder that must exist (:func:`atomic_write_text`), then
    print ``done``. Returns the exit status: 0, or 1 after saying why the file cannot be
    written."""
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        atomic_write_text(output, text, make_folder=False)
    except OSError as exc:
        return fail(os_error_message(exc), 1)
    print(done)
    return 0


def save_watchlist(watchlist: Watchlist, undone: str) -> int:
    """Save (merging what other processes wrote meanwhile); 0, or the exit status
    after saying that ``undone`` ("nothing was added") and why."""
    try:
        watchlist.save()
    except WatchlistError as exc:  # its message may end with a command to copy: own line
        fail(exc)
        return fail(undone)
    except OSError as exc:
        return fail(f"{os_error_message(exc)}. {undone.capitalize()}", 1)
    return 0


def change_watchlist(
    path: Path, receipts: Sequence[ReceiptNumber], change: Callable[[Watchlist], T], undone: str
) -> tuple[T | None, int]:
    """Call ``change`` with the watchlist ``path`` (holding at least the cases of
    ``receipts``) and save what it changed; returns what ``change`` returned and 0, or
    None and the exit status after saying that ``undone`` ("nothing was added") and why.

    A file casewatch wrote is changed in place, its other cases not even parsed
    (:func:`~casewatch.watchlist.splice.change_in_place`, under the file lock); any other
    is read whole and saved, merging what other processes saved meanwhile
    (:func:`save_watchlist`). A file that cannot be read: exit status 2, nothing written.
    """
    try:
        done = change_in_place(path, receipts, change)
    except OSError as exc:
        return None, fail(f"{os_error_message(exc)}. {undone.capitalize()}", 1)
    if done is not None:
        return done, 0
    try:
        watchlist = Watchlist.load(path)
    except WatchlistError as exc:
        return None, fail(exc)
    result = change(watchlist)
    if watchlist.has_unsaved_changes() and (code := save_watchlist(watchlist, undone)):
        return None, code
    return result, 0


WATCHLIST_NOTE = (
    "It reads and writes the watchlist file only (--watchlist, or the default file of "
    "--env): no network, no dashboard. What other casewatch processes saved meanwhile is "
    "merged, never overwritten. A watchlist file that cannot be read is left untouched, "
    "exit status 2."
)
"""What every watchlist verb's help says of the file it works on."""


def open_settings(args: argparse.Namespace) -> tuple[Settings, Watchlist]:
    """The settings of the command and their watchlist, read with no seeding and no
    network.

    Raises :class:`~casewatch.config_file.ConfigError` or :class:`WatchlistError`; never writes.
    """
    settings = settings_of(args)
    return settings, Watchlist.load(settings.watchlist_path)
