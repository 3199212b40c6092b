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
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, tzinfo
from itertools import islice
from typing import Any

from casewatch.cases import US_EASTERN, one_line
from casewatch.check import aligned_line, result_to_json
from casewatch.columns import CUT_MIN, share_width
from casewatch.finding import normalize
from casewatch.hooks import change_message, change_to_json
from casewatch.stages import Stage
from casewatch.timezones import format_iso, format_time
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


def case_row(case: WatchedCase, zone: tzinfo) -> dict[str, str]:
    """The :data:`EXPORT_COLUMNS` of ``case`` as text; empty where nothing is known.
    ``tags`` are joined by :data:`TAG_SEPARATOR`; ``note`` is whole, line breaks included.

    ``changed`` is the US Eastern date USCIS last changed the case (``YYYY-MM-DD``, or
    the text USCIS sent when it is not a plausible date: :meth:`CaseStatus.changed_on`);
    ``checked`` is when casewatch last asked (answered or failed, then ``last_error``
    says why) and ``answered`` when USCIS last answered (the age of the status), ISO 8601
    to the minute in ``zone`` (the ``timezone`` setting), with their offset.
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
        "checked": _minutes(case.checked_at, zone),
        "answered": _minutes(case.answered_at, zone),
        "last_error": case.last_error,
    }


def _minutes(moment: datetime | None, zone: tzinfo) -> str:
    return "" if moment is None else format_iso(moment, zone, timespec="minutes")


def case_to_json(case: WatchedCase, zone: tzinfo) -> dict[str, Any]:
    """``case`` as a JSON-ready object: receipt_number, label, client, tags (a list),
    note (whole, line breaks included), added_at, checked_at (the
    last check, answered or failed), answered_at (the last answer: the age of the
    status), last_error (of the last check; empty when it was answered), events (the
    changes casewatch saw, oldest first: :func:`casewatch.hooks.change_to_json` and
    ``first``, true for the first status recorded when the case was added), then the
    status fields of :func:`casewatch.check.result_to_json` (with ``found`` true) when
    USCIS has answered once; before that ``found`` and ``status`` are null. casewatch's
    times (added, checked, answered, seen) are ISO 8601 in ``zone`` (the ``timezone``
    setting); USCIS's dates stay US Eastern, as USCIS gives them."""
    document: dict[str, Any] = {
        "receipt_number": case.receipt_number.value,
        "label": case.label,
        "client": case.client,
        "tags": list(case.tags),
        "note": case.note,
        "added_at": format_iso(case.added_at, zone),
        "checked_at": format_iso(case.checked_at, zone) if case.checked_at is not None else None,
        "answered_at": (
            format_iso(case.answered_at, zone) if case.answered_at is not None else None
        ),
        "last_error": case.last_error,
        "events": [
            {
                **change_to_json(event),
                "seen_at": format_iso(event.seen_at, zone),
                "first": event.first,
            }
            for event in case.events
        ],
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


STREAM_FROM = 2_000
"""Cases: a list of more is printed as it is read (issue 16, point 4: the first line of
100,000 cases within a second, where reading them all takes about 9 s). Its columns are
sized on its first :data:`STREAM_FROM` cases; see :func:`list_table_lines`."""


def format_list_table(cases: Iterable[WatchedCase], zone: tzinfo, width: int | None = None) -> str:
    """:func:`list_table_lines` joined into one text."""
    return "\n".join(list_table_lines(cases, zone, width))


def list_table_lines(
    cases: Iterable[WatchedCase], zone: tzinfo, width: int | None = None
) -> Iterator[str]:
    """The lines of a plain-text table: receipt, label, client (only when a case has one),
    form, stage, status title (or the last error, cut at :data:`STATUS_WIDTH`
    characters), changed date and when USCIS last answered
    (:func:`~casewatch.timezones.format_time` in ``zone``, the ``timezone`` setting),
    after a ``⚠`` when the last check failed; ``-`` where nothing is known. With a
    ``width`` (characters: a terminal's), lines fit in it (:func:`fit_columns`);
    without, rows are whole (for a pipe or a file). The tags and the note are in
    ``--json``.

    No case, no line. Each column is as wide as its longest cell. Past
    :data:`STREAM_FROM` cases, the lines come as ``cases`` are read: the columns are
    sized on the first :data:`STREAM_FROM`, the CLIENT column is always there, and a
    later cell longer than its column is cut with ``…`` where the column's texts are
    cut, else pushes the rest of its line to the right.
    """
    rows = (_table_row(case, zone) for case in cases)
    first = [_TABLE_HEADER, *islice(rows, STREAM_FROM)]
    if len(first) == 1:
        return  # no case: no table
    streamed = len(first) > STREAM_FROM
    client = _TABLE_HEADER.index("CLIENT")
    if not streamed and all(row[client] == "-" for row in first[1:]):  # no column of dashes
        first = [(*row[:client], *row[client + 1 :]) for row in first]
    sizes = _column_sizes(first, width)
    shown = _cut(first, sizes)
    widths = [max(len(row[i]) for row in shown) for i in range(len(shown[0]))]
    for row in shown:
        yield aligned_line(row, widths)
    for row in rows:  # none left unless streamed
        yield aligned_line(_cut([_TABLE_HEADER, row], sizes)[1], widths)


def _table_row(case: WatchedCase, zone: tzinfo) -> tuple[str, ...]:
    row = case_row(case, zone)
    answered = format_time(case.answered_at, zone) if case.answered_at is not None else ""
    checked = f"⚠ {answered or '-'}" if case.last_error else answered
    status = row["status"] or (f"error: {case.last_error}" if case.last_error else "")
    cells = (
        *(row["receipt_number"], row["label"], row["client"], row["form_type"]),
        *(row["stage"], status, row["changed"], checked),
    )
    return tuple(cell or "-" for cell in cells)


def _column_sizes(rows: list[tuple[str, ...]], width: int | None) -> dict[str, int | None]:
    """The columns of ``rows`` (the header first) shown, in table order, each with the
    characters its cells are cut to (None: whole): those that fit in ``width``
    (:func:`fit_columns`), or every one, the status cut at :data:`STATUS_WIDTH`."""
    if width is None:
        return {name: STATUS_WIDTH if name == "STATUS" else None for name in rows[0]}
    return fit_columns(rows, width)


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


def fit_columns(rows: list[tuple[str, ...]], width: int) -> dict[str, int | None]:
    """The columns of ``rows`` (the header first) that fit in ``width`` characters,
    :data:`GAP` apart, in table order, each with the characters its cells are cut to, as
    :func:`casewatch.columns.share_width` chooses them (the least important hidden
    first, the receipt number and the stage always): the :data:`CUT_COLUMNS` narrow down
    to :data:`~casewatch.columns.CUT_MIN` and share what is left, each up to its longest
    text, the rest cut with ``…``."""
    longest = {name: max(len(row[i]) for row in rows) for i, name in enumerate(rows[0])}
    narrowest = {
        name.lower(): min(size, CUT_MIN) if name in CUT_COLUMNS else size
        for name, size in longest.items()
    }
    widest: dict[str, int | None] = {
        name.lower(): size for name, size in longest.items() if name in CUT_COLUMNS
    }
    widths = share_width(narrowest, widest, width, GAP)
    return {name: widths[name.lower()] for name in rows[0] if name.lower() in widths}


def json_line(case: WatchedCase, zone: tzinfo) -> str:
    """:func:`case_to_json` of ``case`` (times in ``zone``) on one line, for ``list
    --json``."""
    return json.dumps(case_to_json(case, zone), ensure_ascii=False)


def format_json_array(cases: Iterable[WatchedCase], zone: tzinfo) -> str:
    """A JSON array of :func:`case_to_json` objects (times in ``zone``), indented, ending
    with a newline."""
    objects = [case_to_json(case, zone) for case in cases]
    return json.dumps(objects, ensure_ascii=False, indent=2) + "\n"


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


def format_csv(cases: Iterable[WatchedCase], zone: tzinfo) -> str:
    """CSV (RFC 4180 quoting, ``\\n`` line ends) with the header :data:`EXPORT_COLUMNS`
    (times in ``zone``: :func:`case_row`); texts that a spreadsheet would run as formulas
    are quoted with ``'``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(
        {key: spreadsheet_safe(value) for key, value in case_row(case, zone).items()}
        for case in cases
    )
    return buffer.getvalue()


def on_or_after(moment: datetime | None, day: date) -> bool:
    """Whether ``moment`` (an aware datetime, or None: never) falls on or after US Eastern
    date ``day``."""
    return moment is not None and moment.astimezone(US_EASTERN).date() >= day


def uscis_day(changed_at: datetime | None) -> str:
    """``changed_at`` (an aware datetime: when USCIS made a change) as its US Eastern date
    ``YYYY-MM-DD``, or ``date not given`` for None."""
    return f"{changed_at.astimezone(US_EASTERN):%Y-%m-%d}" if changed_at else "date not given"


def changed_since(case: WatchedCase, day: date) -> bool:
    """Whether USCIS changed ``case`` on or after US Eastern date ``day`` (its
    :attr:`~casewatch.cases.CaseStatus.last_changed`), or casewatch saw a change of it
    then (an event's ``seen_at``; the first status recorded when the case was added is no
    change)."""
    if on_or_after(case.status.last_changed if case.status is not None else None, day):
        return True
    return any(not event.first and on_or_after(event.seen_at, day) for event in case.events)


def same_name(text: str) -> str:
    """``text`` as client names and tags are compared: as find compares words
    (:func:`casewatch.finding.normalize`), so that case, accents and punctuation do not
    make two clients of one (``garcía,  maria`` is ``Garcia, Maria``)."""
    return normalize(text)


def select_cases(
    cases: Iterable[WatchedCase],
    *,
    stage: Stage | None = None,
    since: date | None = None,
    client: str | None = None,
    tag: str | None = None,
) -> list[WatchedCase]:
    """The ``cases`` that :func:`selection` of these options keeps, in order."""
    keep = selection(stage=stage, since=since, client=client, tag=tag)
    return [case for case in cases if keep(case)]


def selection(
    *,
    stage: Stage | None = None,
    since: date | None = None,
    client: str | None = None,
    tag: str | None = None,
) -> Callable[[WatchedCase], bool]:
    """Whether a case is in the ``stage`` given (cases USCIS never answered have none),
    :func:`changed_since` ``since`` (a US Eastern date), of ``client`` and with ``tag``
    (:func:`same_name`: any case); None selects all."""
    wanted_client = None if client is None else same_name(client)
    wanted_tag = None if tag is None else same_name(tag)

    def keep(case: WatchedCase) -> bool:
        return (
            (stage is None or (case.status is not None and case.status.stage is stage))
            and (since is None or changed_since(case, since))
            and (wanted_client is None or same_name(case.client) == wanted_client)
            and (wanted_tag is None or any(same_name(mine) == wanted_tag for mine in case.tags))
        )

    return keep


def describe_change(case: WatchedCase, event: ChangeEvent, zone: tzinfo) -> str:
    """One line for a change: receipt, label, old and new status, when USCIS made it (US
    Eastern date) and when casewatch saw it (in ``zone``: the ``timezone`` setting); a
    line break in a title (a watchlist edited by hand) is a space, so a change is always
    one line (:func:`casewatch.cases.one_line`)."""
    title, body = change_message(case, event)
    return one_line(
        f"{title} ({', '.join(event.fields)}): {body} "
        f"[USCIS: {uscis_day(event.changed_at)}; seen {format_time(event.seen_at, zone)}]"
    )


def describe_case(case: WatchedCase, zone: tzinfo) -> str:
    """Its label and when it was added (in ``zone``: the ``timezone`` setting), to point
    at a case already on the watchlist."""
    label = f"label {case.label!r}" if case.label else "no label"
    return f"{label}, added {format_time(case.added_at, zone)}"
