"""Reading receipt numbers out of a file for ``casewatch import`` and the dashboard's
``i``, and adding them to a watchlist. No I/O.

Two formats, told apart by the first line that is neither blank nor a ``#`` comment:

* CSV, when that line is a header with a receipt column: a cell named ``receipt``,
  ``receipt_number`` or ``receipt number`` (any case; spaces, ``_`` and ``-`` alike),
  with an optional ``label`` column. The delimiter is the first of ``,``, ``;`` and tab
  that splits the header into such a column (spreadsheets in some locales write ``;``);
  spaces after a delimiter are skipped, so ``a, "b, c"`` is two cells.
* Otherwise a list: one receipt number per line, optionally followed by its label
  after a tab, a comma or a semicolon (two columns pasted from a spreadsheet, with no
  header; the first of those three characters on the line splits it, and a label in
  CSV quotes may hold it). Blank lines are skipped, and so is everything after a ``#``
  that comes before the label (a receipt number never holds ``#``; the masked form uses
  ``*``); a label keeps its ``#`` ("Case #4").

Receipts are validated by :func:`casewatch.receipts.parse_receipt_number`. Line numbers
count from 1 and are physical lines of the file (a CSV row with a quoted line break
takes the number of its last line).
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

from casewatch.files import MiB, UnsafeFileError, os_error_message, read_regular
from casewatch.listing import describe_case
from casewatch.receipts import ReceiptNumber, ReceiptNumberError, parse_receipt_number
from casewatch.watchlist import DuplicateReceipt, WatchedCase, Watchlist


class ImportFileError(ValueError):
    """A file to import that cannot be read; the message says why and what to do."""


IMPORT_MAX_BYTES = 64 * MiB
"""The largest file imported, in bytes: 100,000 receipts with labels take about 5 MB."""


def read_import_file(path: Path) -> str:
    """The text of ``path`` (UTF-8, with or without a byte order mark).

    Raises :class:`ImportFileError` when it cannot be read (missing, not a regular
    file, larger than :data:`IMPORT_MAX_BYTES`: :func:`casewatch.files.read_regular`) or is
    not UTF-8 (as a spreadsheet's "Unicode text", UTF-16, is not), with the fix in the
    message.
    """
    try:
        found = read_regular(path, "", IMPORT_MAX_BYTES)
        if found is None:
            raise ImportFileError(f"cannot read {path}: there is no such file")
        text = found[0].decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc.start) from None
    except UnsafeFileError as exc:
        raise ImportFileError(str(exc)) from None
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {os_error_message(exc)}") from None
    if (nul := text.find("\x00")) >= 0:  # UTF-16 without a byte order mark
        raise _not_utf8(path, len(text[:nul].encode()))
    return text


def _not_utf8(path: Path, byte: int) -> ImportFileError:
    return ImportFileError(
        f"{path} is not UTF-8 text (byte {byte}): save it as UTF-8 "
        '(in a spreadsheet: "CSV UTF-8") and import it again'
    )


Good = tuple[int, ReceiptNumber, str]
"""A receipt read from the file: (line number, receipt, label)."""
Bad = tuple[int, str, str]
"""A line that is not a receipt: (line number, its text, the problem)."""

_RECEIPT_HEADERS = frozenset({"receipt", "receipt number", "receiptnumber"})
_LABEL_HEADERS = frozenset({"label"})
_DELIMITERS = (",", ";", "\t")
_HEADER_SPACES = re.compile(r"[\s_\-]+")


def parse_import(text: str) -> tuple[list[Good], list[Bad]]:
    """The receipts of an import file's ``text`` and its lines that are not receipts.

    Returns ``(good, bad)``: ``good`` holds (line, receipt, label) in file order, repeats
    included (the caller decides what a repeat means); ``bad`` holds (line, text,
    problem), the problem as :class:`ReceiptNumberError` words it. Never raises.
    """
    lines = text.removeprefix("\ufeff").splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _csv_header(stripped)
        if header is not None:
            delimiter, receipt_column, label_column = header
            return _parse_csv(lines, index, delimiter, receipt_column, label_column)
        break
    return _parse_text(lines)


def _header_name(cell: str) -> str:
    return _HEADER_SPACES.sub(" ", cell.strip().lower())


def _csv_header(line: str) -> tuple[str, int, int | None] | None:
    """(delimiter, receipt column, label column) when ``line`` is a CSV header."""
    for delimiter in _DELIMITERS:
        names = [
            _header_name(cell)
            for cell in next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))
        ]
        receipt = next((i for i, name in enumerate(names) if name in _RECEIPT_HEADERS), None)
        if receipt is not None:
            label = next((i for i, name in enumerate(names) if name in _LABEL_HEADERS), None)
            return delimiter, receipt, label
    return None


def _parse_receipt(number: int, text: str, label: str, good: list[Good], bad: list[Bad]) -> None:
    try:
        good.append((number, parse_receipt_number(text), label.strip()))
    except ReceiptNumberError as exc:
        bad.append((number, text.strip(), exc.problem))


def _parse_text(lines: list[str]) -> tuple[list[Good], list[Bad]]:
    good: list[Good] = []
    bad: list[Bad] = []
    for number, line in enumerate(lines, start=1):
        receipt, label = _receipt_and_label(line)
        if receipt.strip() or label.strip():  # a label with no receipt is reported
            _parse_receipt(number, receipt, label, good, bad)
    return good, bad


_LIST_DELIMITERS = ("\t", ",", ";")
"""What splits a receipt from its label in a list with no header, the first found on a
line: a tab first, as a label pasted from a spreadsheet may hold a comma."""


def _receipt_and_label(line: str) -> tuple[str, str]:
    """A line of a list with no header as (receipt text, label): the label follows the
    first tab, comma or semicolon (CSV quoting undone; further cells kept in it), and a
    ``#`` before it starts a comment."""
    delimiter = next((mark for mark in _LIST_DELIMITERS if mark in line), None)
    if delimiter is None or "#" in line.split(delimiter, 1)[0]:
        return line.split("#", 1)[0], ""
    cells = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))
    return cells[0], delimiter.join(cells[1:])


def _parse_csv(
    lines: list[str], header_index: int, delimiter: str, receipt: int, label: int | None
) -> tuple[list[Good], list[Bad]]:
    good: list[Good] = []
    bad: list[Bad] = []
    reader = csv.reader(lines[header_index + 1 :], delimiter=delimiter, skipinitialspace=True)
    try:
        for row in reader:
            number = header_index + 1 + reader.line_num
            if not any(cell.strip() for cell in row) or row[0].strip().startswith("#"):
                continue
            if receipt >= len(row):
                bad.append((number, delimiter.join(row), "the receipt column is missing"))
                continue
            _parse_receipt(
                number,
                row[receipt],
                row[label] if label is not None and label < len(row) else "",
                good,
                bad,
            )
    except csv.Error as exc:
        bad.append((header_index + 1 + reader.line_num, "", f"not valid CSV: {exc}"))
    return good, bad


def add_imported(
    watchlist: Watchlist, good: list[Good], added_at: datetime
) -> tuple[list[WatchedCase], list[tuple[int, str]]]:
    """Add the ``good`` receipts of an import to ``watchlist`` (``added_at`` an aware
    datetime). Returns the cases added and, for each receipt skipped, its line and why:
    a repeat of an earlier line, or already watched (with its label and when added)."""
    added: list[WatchedCase] = []
    skipped: list[tuple[int, str]] = []
    first_line: dict[ReceiptNumber, int] = {}
    for line, receipt, label in good:
        if receipt in first_line:
            skipped.append((line, f"{receipt} repeats line {first_line[receipt]}"))
            continue
        first_line[receipt] = line
        try:
            added.append(watchlist.add(receipt, label=label, added_at=added_at))
        except DuplicateReceipt:
            existing = describe_case(watchlist.get(receipt))
            skipped.append((line, f"{receipt} is already on the watchlist ({existing})"))
    return added, skipped
