"""Reading receipt numbers out of a file for ``casewatch import`` and the dashboard's
``i``, and adding them to a watchlist. No I/O.

Two formats, told apart by the first line that is neither blank nor a ``#`` comment:

* CSV, when that line is a header with a receipt column: a cell named ``receipt``,
  ``receipt_number`` or ``receipt number`` (any case; spaces, ``_`` and ``-`` alike),
  with optional ``label``, ``client``, ``tags`` (``tag``; separated by ``;``) and
  ``note`` (``notes``) columns, as ``casewatch export`` writes them; its status
  columns (``form_type`` … ``last_error``) are skipped, the next check brings them; the
  other columns are named in :attr:`ParsedImport.ignored_columns`, never dropped
  silently. The delimiter is the
  first of ``,``, ``;`` and tab that splits the header into such a column (spreadsheets
  in some locales write ``;``); spaces after a delimiter are skipped, so ``a, "b, c"``
  is two cells.
* Otherwise a list: one receipt number per line, optionally followed by its label
  after a tab, a comma or a semicolon (two columns pasted from a spreadsheet, with no
  header; the first of those three characters on the line splits it, and a label in
  CSV quotes may hold it). Blank lines are skipped, and so is everything after a ``#``
  that comes before the label (a receipt number never holds ``#``; the masked form uses
  ``*``); a label keeps its ``#`` ("Case #4").

Receipts are validated by :func:`casewatch.receipts.parse_receipt_number`. Line numbers
count from 1 and are physical lines of the file (a CSV row with a quoted line break
takes the number of its last line).

A row naming a case already watched fills in its empty label, client, tags and note,
or replaces them under :attr:`~casewatch.watching.LabelRule.REPLACE` (``--update``); an
empty cell never blanks one (:func:`casewatch.watching.watch`, shared with ``casewatch
add``; issue 13, point 2, and issue 14, point 1). A cell ``casewatch export`` defused
for spreadsheets (a ``'`` before a formula) is read back as it was
(:func:`casewatch.listing.undo_spreadsheet_safe`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from casewatch.files import MiB, UnsafeFileError, os_error_message, read_regular
from casewatch.listing import (
    EXPORT_COLUMNS,
    TAG_SEPARATOR,
    undo_spreadsheet_safe,
)
from casewatch.receipts import ReceiptNumber, ReceiptNumberError, parse_receipt_number
from casewatch.watching import CaseDetails, LabelRule, Watched, watch
from casewatch.watchlist import CaseDetailError, WatchedCase, Watchlist


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


class Good(NamedTuple):
    """A receipt read from the file: its line number, the receipt and the details of its
    row."""

    line: int
    receipt: ReceiptNumber
    details: CaseDetails = CaseDetails()


Bad = tuple[int, str, str]
"""A line that is not a receipt: (line number, its text, the problem)."""

_RECEIPT_HEADERS = frozenset({"receipt", "receipt number", "receiptnumber"})
_STATUS_HEADERS = frozenset(
    name.replace("_", " ") for name in EXPORT_COLUMNS[EXPORT_COLUMNS.index("form_type") :]
)
"""The columns of ``casewatch export`` that say what USCIS answered (form type, stage,
status, dates, the last error): the next check brings them, so an export imported back
skips them without naming them."""
_DETAIL_HEADERS = {
    "label": "label",
    "client": "client",
    "tags": "tags",
    "tag": "tags",
    "note": "note",
    "notes": "note",
}
_DELIMITERS = (",", ";", "\t")
_HEADER_SPACES = re.compile(r"[\s_\-]+")


@dataclass(frozen=True, slots=True)
class ParsedImport:
    """An import file read: ``good`` holds its :class:`Good` rows in file order, repeats
    included (the caller decides what a repeat means); ``bad`` holds (line, text,
    problem) of the lines that are not receipts, the problem as
    :class:`ReceiptNumberError` words it; ``refused`` (line, receipt, problem) of the
    rows whose tags or note casewatch does not keep, as
    :class:`~casewatch.watchlist.CaseDetailError` words it; ``ignored_columns`` names,
    as the header writes them, the CSV columns casewatch does not read (such as
    ``Phone``)."""

    good: list[Good]
    bad: list[Bad]
    ignored_columns: tuple[str, ...] = ()
    refused: list[Bad] = field(default_factory=list)


def read_rows(text: str) -> ParsedImport:
    """The receipts of an import file's ``text``, its lines that are not receipts and the
    columns it does not read (see the module's docstring for the formats). Never raises."""
    lines = text.removeprefix("\ufeff").splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _csv_header(stripped)
        if header is not None:
            return _parse_csv(lines, index, header)
        break
    return _parse_text(lines)


def _header_name(cell: str) -> str:
    return _HEADER_SPACES.sub(" ", cell.strip().lower())


@dataclass(frozen=True, slots=True)
class _Header:
    """A CSV header: its delimiter, the receipt column, the column of each detail it
    has (by :data:`DETAIL_FIELDS` name), the other names."""

    delimiter: str
    receipt: int
    details: dict[str, int]
    ignored: tuple[str, ...]


def _csv_header(line: str) -> _Header | None:
    """The header of a CSV file when ``line`` is one (it names a receipt column)."""
    for delimiter in _DELIMITERS:
        cells = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))
        names = [_header_name(cell) for cell in cells]
        receipt = next((i for i, name in enumerate(names) if name in _RECEIPT_HEADERS), None)
        if receipt is not None:
            details: dict[str, int] = {}
            for i, name in enumerate(names):
                if name in _DETAIL_HEADERS:
                    details.setdefault(_DETAIL_HEADERS[name], i)
            ignored = tuple(
                cell.strip()
                for i, cell in enumerate(cells)
                if i != receipt
                and i not in details.values()
                and cell.strip()
                and names[i] not in _STATUS_HEADERS
            )
            return _Header(delimiter, receipt, details, ignored)
    return None


def _parse_receipt(number: int, text: str, cells: dict[str, str], parsed: ParsedImport) -> None:
    """The row of line ``number``: its receipt ``text`` and the text of each detail
    (``cells``, by :data:`DETAIL_FIELDS` name), to ``parsed.good`` or, with the problem,
    ``parsed.bad`` (not a receipt) or ``parsed.refused`` (a tag or note refused)."""
    try:
        receipt = parse_receipt_number(text)
        details = CaseDetails.clean(
            label=cells.get("label", ""),
            client=cells.get("client", ""),
            tags=tuple(
                tag for tag in cells.get("tags", "").split(TAG_SEPARATOR.strip()) if tag.strip()
            ),
            note=cells.get("note", ""),
        )
    except ReceiptNumberError as exc:
        parsed.bad.append((number, text.strip(), exc.problem))
    except CaseDetailError as exc:
        parsed.refused.append((number, receipt.value, str(exc)))
    else:
        parsed.good.append(Good(number, receipt, details))


def _parse_text(lines: list[str]) -> ParsedImport:
    parsed = ParsedImport([], [])
    for number, line in enumerate(lines, start=1):
        receipt, label = _receipt_and_label(line)
        if receipt.strip() or label.strip():  # a label with no receipt is reported
            _parse_receipt(number, receipt, {"label": label}, parsed)
    return parsed


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


def _parse_csv(lines: list[str], header_index: int, header: _Header) -> ParsedImport:
    parsed = ParsedImport([], [], header.ignored)
    bad, receipt = parsed.bad, header.receipt
    reader = csv.reader(  # line ends given back, so a quoted cell keeps its line breaks
        (f"{line}\n" for line in lines[header_index + 1 :]),
        delimiter=header.delimiter,
        skipinitialspace=True,
    )
    try:
        for row in reader:
            number = header_index + 1 + reader.line_num
            if not any(cell.strip() for cell in row) or row[0].strip().startswith("#"):
                continue
            if receipt >= len(row):
                bad.append((number, header.delimiter.join(row), "the receipt column is missing"))
                continue
            cells = {
                name: undo_spreadsheet_safe(row[index])
                for name, index in header.details.items()
                if index < len(row)
            }
            _parse_receipt(number, row[receipt], cells, parsed)
    except csv.Error as exc:
        bad.append((header_index + 1 + reader.line_num, "", f"not valid CSV: {exc}"))
    return parsed


def ignored_column_note(column: str) -> str:
    """What an import says of a CSV column it does not read (issue 13, point 2)."""
    return f"column {column!r} ignored (casewatch reads receipt, label, client, tags and note)"


@dataclass(slots=True)
class ImportReport:
    """What :func:`import_rows` did: ``watched``, the line and outcome of the first row of
    each receipt, in file order; ``repeats``, the line of each later row and why it was
    skipped (``EAC… repeats line 3``)."""

    watched: list[tuple[int, Watched]] = field(default_factory=list)
    repeats: list[tuple[int, str]] = field(default_factory=list)

    @property
    def added(self) -> list[WatchedCase]:
        """The cases added, in file order."""
        return [outcome.case for _, outcome in self.watched if outcome.added]

    @property
    def updated(self) -> list[tuple[int, Watched]]:
        """The watched cases whose details were set or replaced, with their lines."""
        return [(line, outcome) for line, outcome in self.watched if outcome.changed]

    def counts(self, parsed: ParsedImport) -> str:
        """The import in numbers: ``3 added, 1 updated, 2 skipped, 1 not receipt numbers``
        (``, 1 refused`` when rows were), ``parsed`` being the file it imported."""
        skipped = len(self.unchanged) + len(self.repeats)
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {skipped} skipped, "
            f"{len(parsed.bad)} not receipt numbers"
            + (f", {len(parsed.refused)} refused" if parsed.refused else "")
        )

    @property
    def unchanged(self) -> list[tuple[int, Watched]]:
        """The watched cases left as they were, with their lines."""
        return [
            (line, outcome)
            for line, outcome in self.watched
            if not outcome.added and not outcome.changed
        ]


def import_rows(
    watchlist: Watchlist, good: list[Good], added_at: datetime, rule: LabelRule
) -> ImportReport:
    """Watch the ``good`` receipts of an import (:func:`watch`, ``added_at`` an aware
    datetime, ``rule`` for the details of cases already watched); a receipt's later rows
    are repeats, skipped. Never raises."""
    report = ImportReport()
    first_line: dict[ReceiptNumber, int] = {}
    for line, receipt, details in good:
        if receipt in first_line:
            report.repeats.append((line, f"{receipt} repeats line {first_line[receipt]}"))
            continue
        first_line[receipt] = line
        outcome = watch(watchlist, receipt, details=details, added_at=added_at, rule=rule)
        report.watched.append((line, outcome))
    return report
