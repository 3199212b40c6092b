"""The watchlist as rows: for ``casewatch list`` (a table, JSON lines, fitted to a
terminal's width) and ``casewatch export`` (CSV, a JSON array), and the cases
``--stage``, ``--changed-since``, ``--client`` and ``--tag`` select. Pure functions, no
I/O, no Textual.

A case's status fields are those of :func:`casewatch.check.result_to_json`, so ``list
--json`` and ``check --json`` describe a case the same way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from casewatch.cases import US_EASTERN, eastern_time, one_line
from casewatch.check import align_columns, result_to_json
from casewatch.columns import CUT_MIN, share_width
from casewatch.hooks import change_message, change_to_json
from casewatch.stages import Stage
from casewatch.watchlist import ChangeEvent, WatchedCase

EXPORT_COLUMNS = (
    "receipt_number",
    "label",
    "client",
    "tags",
    "note",
    "form_type",
    "stage",
    "status",
    "changed",
    "checked",
    "answered",
    "last_error",
)
"""The header of ``casewatch export --format csv``."""

TAG_SEPARATOR = "; "
"""What separates a case's tags in a CSV cell (export writes it, import splits at its
``;``; a tag never holds one: :func:`casewatch.watchlist.clean_tag`)."""

_TABLE_HEADER = ("RECEIPT", "LABEL", "CLIENT", "FORM", "STAGE", "STATUS", "CHANGED", "CHECKED")


def case_row(case: WatchedCase) -> dict[str, str]:
    """The :data:`EXPORT_COLUMNS` of ``case`` as text; empty where nothing is known.
    ``tags`` are joined by :data:`TAG_SEPARATOR`; ``note`` is whole, line breaks included.

    ``changed`` is the US Eastern date USCIS last changed the case (``YYYY-MM-DD``, or
    the text USCIS sent when it is not a plausible date: :meth:`CaseStatus.changed_on`);
    ``checked`` is when casewatch last asked (answered or failed, then ``last_error``
    says why) and ``answered`` when USCIS last answered (the age of the status), ISO 8601
    to the minute with their offset.
    """
    status = case.status
    return {
        "receipt_number": case.receipt_number.value,
        "label": case.label,
        "client": case.client,
        "tags": TAG_SEPARATOR.join(case.tags),
        "note": case.note,
        "form_type": status.form_type if status is not None else "",
        "stage": status.stage.value if status is not None else "",
        "status": status.title_en if status is not None else "",
        "changed": status.changed_on() if status is not None else "",
        "checked": _iso(case.checked_at) if case.checked_at is not None else "",
        "answered": _iso(case.answered_at) if case.answered_at is not None else "",
        "last_error": case.last_error,
    }


def case_to_json(case: WatchedCase) -> dict[str, Any]:
    """``case`` as a JSON-ready object: receipt_number, label, client, tags (a list),
    note (whole, line breaks included), added_at, checked_at (the
    last check, answered or failed), answered_at (the last answer: the age of the
    status), last_error (of the last check; empty when it was answered), events (the
    changes casewatch saw, oldest first: :func:`casewatch.hooks.change_to_json` and
    ``first``, true for the first status recorded when the case was added), then the
    status fields of :func:`casewatch.check.result_to_json` (with ``found`` true) when
    USCIS has answered once; before that ``found`` and ``status`` are null. Dates are ISO
    8601 in US Eastern time."""
    document: dict[str, Any] = {
        "receipt_number": case.receipt_number.value,
        "label": case.label,
        "client": case.client,
        "tags": list(case.tags),
        "note": case.note,
        "added_at": case.added_at.isoformat(),
        "checked_at": case.checked_at.isoformat() if case.checked_at is not None else None,
        "answered_at": case.answered_at.isoformat() if case.answered_at is not None else None,
        "last_error": case.last_error,
        "events": [{**change_to_json(event), "first": event.first} for event in case.events],
    }
    if case.status is None:
        document.update(found=None, status=None)
    else:
        document.update(result_to_json(case.receipt_number, case.status))
    return document


STATUS_WIDTH = 60
"""Characters of a status (or an error message) in ``casewatch list``'s table; ``--json``
has the whole text."""

CUT_COLUMNS = frozenset({"LABEL", "CLIENT", "STATUS"})
"""The columns whose texts are cut, ending with ``…``, to fit a terminal; the others are
short and shown whole or hidden."""

GAP = 2
"""Spaces between two columns."""


def format_list_table(cases: Iterable[WatchedCase], width: int | None = None) -> str:
    """A plain-text table: receipt, label, client (only when a case has one), form,
    stage, status title (or the last error, cut at :data:`STATUS_WIDTH` characters),
    changed date and when USCIS last answered (:func:`~casewatch.cases.eastern_time`),
    after a ``⚠`` when the last check failed; ``-`` where nothing is known. With a
    ``width`` (characters: a terminal's), lines fit in it (:func:`fit_columns`);
    without, rows are whole (for a pipe or a file). The tags and the note are in
    ``--json``."""
    rows: list[tuple[str, ...]] = [_TABLE_HEADER]
    for case in cases:
        row = case_row(case)
        answered = eastern_time(case.answered_at) if case.answered_at is not None else ""
        checked = f"⚠ {answered or '-'}" if case.last_error else answered
        status = row["status"] or (f"error: {case.last_error}" if case.last_error else "")
        cells = (
            *(row["receipt_number"], row["label"], row["client"], row["form_type"]),
            *(row["stage"], status, row["changed"], checked),
        )
        rows.append(tuple(cell or "-" for cell in cells))
    client = _TABLE_HEADER.index("CLIENT")
    if all(row[client] == "-" for row in rows[1:]):  # no client: no column of dashes
        rows = [(*row[:client], *row[client + 1 :]) for row in rows]
    return align_columns(fit_columns(rows, width) if width is not None else _cut_status(rows))


def _cut_status(rows: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    widths = {name: STATUS_WIDTH if name == "STATUS" else None for name in rows[0]}
    return _cut(rows, widths)


def _cut(rows: list[tuple[str, ...]], widths: dict[str, int | None]) -> list[tuple[str, ...]]:
    """The columns of ``rows`` (the header first) named in ``widths`` (in table order),
    each cell cut to its width with ``…`` at the end (None: whole)."""
    indexes = [(rows[0].index(name), size) for name, size in widths.items()]
    return [tuple(cut_text(row[i], size) for i, size in indexes) for row in rows]


def cut_text(text: str, width: int | None) -> str:
    """``text`` in at most ``width`` characters, its end replaced by ``…`` when cut (None:
    whole)."""
    if width is None or len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


def fit_columns(rows: list[tuple[str, ...]], width: int) -> list[tuple[str, ...]]:
    """``rows`` (the header first) with only the columns that fit in ``width`` characters,
    :data:`GAP` apart, as :func:`casewatch.columns.share_width` chooses them (the least
    important hidden first, the receipt number and the stage always): the
    :data:`CUT_COLUMNS` narrow down to :data:`~casewatch.columns.CUT_MIN` and share
    what is left, each up to its longest text, the rest cut with ``…``."""
    longest = {name: max(len(row[i]) for row in rows) for i, name in enumerate(rows[0])}
    narrowest = {
        name.lower(): min(size, CUT_MIN) if name in CUT_COLUMNS else size
        for name, size in longest.items()
    }
    widest: dict[str, int | None] = {
        name.lower(): size for name, size in longest.items() if name in CUT_COLUMNS
    }
    widths = share_width(narrowest, widest, width, GAP)
    return _cut(rows, {name: widths[name.lower()] for name in rows[0] if name.lower() in widths})


def format_json_lines(cases: Iterable[WatchedCase]) -> str:
    """One :func:`case_to_json` object per line, in watchlist order."""
    return "\n".join(json.dumps(case_to_json(case), ensure_ascii=False) for case in cases)


def format_json_array(cases: Iterable[WatchedCase]) -> str:
    """A JSON array of :func:`case_to_json` objects, indented, ending with a newline."""
    return json.dumps([case_to_json(case) for case in cases], ensure_ascii=False, indent=2) + "\n"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
Injection")."""


def spreadsheet_safe(value: str) -> str:
    """``value``, with a ``'`` before it when a spreadsheet would run it as a formula (a
    label such as ``=HYPERLINK(...)``), or when it is such a value behind ``'`` already,
    so that :func:`undo_spreadsheet_safe` gives every value back as it was."""
    return f"'{value}" if value.lstrip("'").startswith(FORMULA_STARTS) else value


def undo_spreadsheet_safe(value: str) -> str:
    """A cell of a CSV file as it was before :func:`spreadsheet_safe` (one ``'`` dropped
    before a formula), so that an export imports back as it was (issue 14, point 1)."""
    return value[1:] if value.startswith("'") and spreadsheet_safe(value[1:]) == value else value


def format_csv(cases: Iterable[WatchedCase]) -> str:
    """CSV (RFC 4180 quoting, ``\\n`` line ends) with the header :data:`EXPORT_COLUMNS`;
    texts that a spreadsheet would run as formulas are quoted with ``'``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(
        {key: spreadsheet_safe(value) for key, value in case_row(case).items()} for case in cases
    )
    return buffer.getvalue()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def changed_since(case: WatchedCase, day: date) -> bool:
    """Whether USCIS changed ``case`` on or after US Eastern date ``day`` (its
    :attr:`~casewatch.cases.CaseStatus.last_changed`), or casewatch saw a change of it
    then (an event's ``seen_at``; the first status recorded when the case was added is no
    change)."""
    changed = case.status.last_changed if case.status is not None else None
    if changed is not None and changed.astimezone(US_EASTERN).date() >= day:
        return True
    return any(
        not event.first and event.seen_at.astimezone(US_EASTERN).date() >= day
        for event in case.events
    )


def same_name(text: str) -> str:
    """``text`` as client names and tags are compared: one line, any case
    (``garcia,  maria`` is ``Garcia, Maria``)."""
    return one_line(text).casefold()


def select_cases(
    cases: Iterable[WatchedCase],
    *,
    stage: Stage | None = None,
    since: date | None = None,
    client: str | None = None,
    tag: str | None = None,
) -> list[WatchedCase]:
    """The ``cases`` in the ``stage`` given (cases USCIS never answered have none),
    :func:`changed_since` ``since`` (a US Eastern date), of ``client`` and with ``tag``
    (:func:`same_name`: any case), in order; None selects all."""
    wanted_client = None if client is None else same_name(client)
    wanted_tag = None if tag is None else same_name(tag)
    return [
        case
        for case in cases
        if (stage is None or (case.status is not None and case.status.stage is stage))
        and (since is None or changed_since(case, since))
        and (wanted_client is None or same_name(case.client) == wanted_client)
        and (wanted_tag is None or any(same_name(mine) == wanted_tag for mine in case.tags))
    ]


def describe_change(case: WatchedCase, event: ChangeEvent) -> str:
    """One line for a change: receipt, label, old and new status, when USCIS made it (US
    Eastern date) and when casewatch saw it; a line break in a title (a watchlist edited
    by hand) is a space, so a change is always one line (:func:`casewatch.cases.one_line`)."""
    title, body = change_message(case, event)
    when = f"{event.changed_at:%Y-%m-%d}" if event.changed_at else "date not given"
    return one_line(
        f"{title} ({', '.join(event.fields)}): {body} "
        f"[USCIS: {when}; seen {eastern_time(event.seen_at)}]"
    )


def describe_case(case: WatchedCase) -> str:
    """Its label and when it was added, to point at a case already on the watchlist."""
    label = f"label {case.label!r}" if case.label else "no label"
    return f"{label}, added {eastern_time(case.added_at)}"
