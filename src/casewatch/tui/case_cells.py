"""The case table's columns and cells: each column's heading and width (the short ones
at their natural width, the label and the status sharing what the pane leaves), and the
cells of a case. Pure functions of a case, the time and the theme: the table calls them
for the rows it adds or updates, never for every row at once."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from rich.style import Style
from rich.text import Text

from casewatch.columns import CUT_MIN, share_width
from casewatch.deadlines import ResponseDays, response_due
from casewatch.finding import is_not_recognized
from casewatch.stages import Stage
from casewatch.tui.formats import format_age, format_days, not_recognized_text, stage_text
from casewatch.watchlist import WatchedCase


class TableColumn(NamedTuple):
    """A column of the case table: its key (one of
    :data:`casewatch.columns.COLUMN_PRIORITY`), its heading, its narrowest width in
    cells and, for a column whose texts are cut with ``…``, the most cells it takes
    (None: as many as the pane leaves; 0: the column is never cut)."""

    key: str
    heading: str
    width: int
    widest: int | None = 0


LABEL_MIN = 26
"""Cells the client and label keep at least before other columns hide: "Garcia, Maria ·
I-485 A…", enough to tell a family's cases apart (issue 13, point 1)."""

COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("receipt", "Receipt", 15),
    TableColumn("label", "Client · label", LABEL_MIN, 40),
    TableColumn("form", "Form", 7),
    TableColumn("status", "Status", 24, None),
    TableColumn("stage", "Stage", 18),
    TableColumn("changed", "Changed", 10),
    TableColumn("days", "In status", 9),
    TableColumn("due", "Due", 12),
    TableColumn("checked", "Checked", 8),
)
"""The table's columns, in table order. The short ones always have their natural width;
the label (with the client) and the status grow with the pane. The status keeps 24
cells or hides: the label then takes its room, so that at 80 columns "Garcia, Maria
(I-485 AOS)" and "Garcia, Maria (I-765 EAD)" read apart (issue 13, point 1)."""

HEADINGS = {column.key: column.heading for column in COLUMNS}
"""The heading of each column, by key."""

TABLE_FRAME = 3
"""Cells around the columns: the table's border (2) and its scrollbar (1)."""

PADDING = 2
"""Cells of padding around each column's text (one each side)."""


def fit_columns(width: int) -> dict[str, int]:
    """The columns shown in a table ``width`` cells wide (border and scrollbar
    included), in table order, each with its width in cells (padding excluded): the
    most important that fit (:func:`casewatch.columns.share_width`), the label and the
    status sharing what is left. The label keeps :data:`LABEL_MIN` cells where columns
    less important than it can hide for that, and :data:`~casewatch.columns.CUT_MIN`
    in a pane too narrow for that. From the width alone: no cell is measured."""
    narrowest = {column.key: column.width for column in COLUMNS}
    widest = {column.key: column.widest for column in COLUMNS if column.widest != 0}
    # n columns take the sum of their widths, PADDING each and the frame: as many cells
    # as n columns PADDING apart in a width smaller by the frame and one PADDING.
    room = width - TABLE_FRAME - PADDING
    fitted = share_width(narrowest, widest, room, PADDING)
    if "label" in fitted:
        return fitted
    return share_width(narrowest | {"label": CUT_MIN}, widest, room, PADDING)


def _cut(text: str | Text) -> Text:
    """A cell whose text ends with ``…`` where the column cuts it."""
    cell = text if isinstance(text, Text) else Text(text)
    cell.overflow = "ellipsis"
    cell.no_wrap = True
    return cell


def label_cell(case: WatchedCase, with_client: bool) -> Text:
    """The client (in bold, when ``with_client``) and the label of ``case``."""
    client = case.client if with_client else ""
    if client and case.label:
        return _cut(Text.assemble((client, "bold"), " · ", case.label))
    return _cut(Text(client, style="bold") if client else Text(case.label))


def checked_cell(case: WatchedCase, now: datetime) -> Text:
    """The age at ``now`` of the case's data (its last answer), after ``⚠`` when the
    last check failed."""
    age = format_age(case.answered_at, now) if case.status else "never"
    return Text(f"⚠ {age}", style="bold red") if case.last_error else Text(age)


def due_cell(case: WatchedCase, days: ResponseDays, today: date) -> Text:
    """The response due date of ``case`` (:func:`casewatch.deadlines.response_due`):
    ``≈ 2026-05-31`` when estimated, ``2026-05-28`` when the user gave the notice's
    date, in bold red once passed (``today``, a US Eastern date); empty when no answer
    is asked."""
    due = response_due(case, days)
    if due is None:
        return Text("")
    text = f"≈ {due.due}" if due.estimated else str(due.due)
    return Text.assemble((text, "bold red" if due.days_left(today) < 0 else ""))


def case_cells(
    case: WatchedCase,
    columns: tuple[str, ...],
    now: datetime,
    styles: dict[Stage, Style],
    days: ResponseDays,
    *,
    with_client: bool = True,
) -> list[Text]:
    """The cells of ``case`` in ``columns`` at ``now`` (US Eastern), the stage in the
    theme's ``styles``; the client before the label ``with_client`` (not under its
    client's heading in the grouped table). Labels and USCIS's texts are shown as they
    are, never read as markup."""
    status = case.status
    # The mark before the receipt: changed and not viewed yet, or (where the Checked
    # column is hidden, in a narrow pane) the last check failed.
    failed = case.last_error and "checked" not in columns
    mark = "●" if case.unseen else "⚠" if failed else " "
    receipt = f"{mark} {case.receipt_number}"
    cells: dict[str, str | Text] = {
        "receipt": Text(receipt, style="bold") if case.unseen else receipt,
        "label": label_cell(case, with_client),
        "checked": checked_cell(case, now),
    }
    if status is None and is_not_recognized(case):  # not "…": it is not loading
        cells["stage"] = not_recognized_text(styles)
    elif status is None:
        cells["status"] = "…"
    else:
        cells |= {
            "form": status.form_type,
            "status": _cut(status.title_en),
            "stage": stage_text(status.stage, styles),
            "changed": status.changed_on() or "—",
            "days": format_days(status.last_changed, now),
        }
        if "due" in columns:  # where there is room: the deadline rules cost a little
            cells["due"] = due_cell(case, days, now.date())
    return [
        cell if isinstance(cell, Text) else Text(cell)
        for cell in (cells.get(key, "") for key in columns)
    ]
