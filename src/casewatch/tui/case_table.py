"""The case table: its columns (as many as the pane's width holds), the rows filled in
batches, the filters, the sort order kept as cases change, the grouping by client, the
count in its title, the selected case and the next changed one."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from casewatch.cases import US_EASTERN
from casewatch.deadlines import ResponseDays
from casewatch.finding import SearchTexts, parse_query
from casewatch.stages import Stage
from casewatch.tui.case_cells import (
    COLUMNS,
    HEADINGS,
    case_cells,
    fit_columns,
)
from casewatch.tui.fast_table import FastDataTable
from casewatch.tui.filters import CaseFilter, admits, filter_label, sort_key, stage_cycle
from casewatch.tui.row_order import RowOrder, is_header, sort_way
from casewatch.watchlist import WatchedCase, Watchlist

FIRST_ROWS = 150
"""Rows added to the table before its first paint: more than a screen shows."""

ROWS_PER_BATCH = 10_000
"""Rows added per turn of the event loop after the first ones (about 30 ms of work: a
row's cells are made when it is painted, :class:`FastDataTable`)."""

SETTLE_FROM_CASES = 20_000
"""Cases: with this many or more, the table follows the find text once the typing pauses
(:data:`FIND_SETTLE_S`), not at each key: a fill of 100,000 cases takes most of a
second, and the keys typed meanwhile waited for each one (the new-user trial)."""

FIND_SETTLE_S = 0.3
"""Seconds of no typing after which a long table follows the find text."""

AGES_EVERY_S = 60.0
"""Seconds between two updates of the ages in the Checked column (``12m``)."""


class CaseTable(FastDataTable):
    """The live case table of ``watchlist``; ``enter`` (shown in the footer) opens the
    history drawer. Moves with the arrows, ``PgUp``/``PgDn`` and vim's
    ``j``/``k``/``g``/``G``. Shows the cases that match :attr:`text_filter` and
    :attr:`stage_filter`, in the order of :attr:`sort_column` (the watchlist's when
    None; :attr:`sort_descending` reverses it), under a header row per client when
    :attr:`grouped`, their stage in :attr:`stage_styles`; its title counts them.
    ``clock`` gives Unix time in seconds (for the Days and Checked columns)."""

    BINDINGS = [
        Binding(
            "enter",
            "select_cursor",
            "History",
            id="history",
            tooltip="Open or close the history drawer of the selected case",
        ),
        Binding(
            "down,j",
            "cursor_down",
            "Down",
            show=False,
            id="cursor_down",
            tooltip="Move to the next case",
        ),
        Binding(
            "up,k",
            "cursor_up",
            "Up",
            show=False,
            id="cursor_up",
            tooltip="Move to the previous case",
        ),
        Binding(
            "home,g",
            "scroll_top",
            "First case",
            show=False,
            id="first_case",
            tooltip="Move to the first case",
        ),
        Binding(
            "end,G",
            "scroll_bottom",
            "Last case",
            show=False,
            id="last_case",
            tooltip="Move to the last case",
        ),
        Binding(
            "pageup", "page_up", "Page up", show=False, id="page_up", tooltip="Move one screen up"
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            id="page_down",
            tooltip="Move one screen down",
        ),
    ]

    text_filter: var[str] = var("", init=False)
    stage_filter: var[CaseFilter | None] = var(None, init=False)
    sort_column: var[str | None] = var(None, init=False)
    sort_descending: var[bool] = var(False, init=False)
    grouped: var[bool] = var(False, init=False)
    stage_styles: var[dict[Stage, Style]] = var(dict, init=False)

    def __init__(
        self,
        watchlist: Watchlist,
        clock: Callable[[], float],
        *,
        response_days: ResponseDays | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.watchlist = watchlist
        self._clock = clock
        self.response_days = response_days or ResponseDays()
        """The days to answer a notice, for the Due column (setting ``response_days``)."""
        self._today = self._now().date()  # the US Eastern day the Due column was made on
        self.column_widths = {column.key: column.width for column in COLUMNS}
        """The columns shown, in table order, with their widths in cells
        (:func:`~casewatch.tui.case_cells.fit_columns`)."""
        self._order = RowOrder((), None)
        self._shown: list[str] = []  # the row keys, in order (receipts and headers)
        self._pending: deque[str] = deque()  # the keys of rows still to add
        self._unplaced: set[str] = set()  # cases changed while the rows fill in
        self._settling: Timer | None = None  # the fill for the find text, once typed
        self._search_texts = SearchTexts()  # what find matches, made once per case change
        self.unviewed: set[str] = set()
        """The receipt numbers of the cases with a change not viewed yet, shown or not."""
        self._add_columns()

    @property
    def shown_columns(self) -> tuple[str, ...]:
        """The keys of the columns shown, in table order."""
        return tuple(self.column_widths)

    def _add_columns(self) -> None:
        for key, width in self.column_widths.items():
            self.add_column(HEADINGS[key], key=key, width=width)

    def on_mount(self) -> None:
        self.set_interval(AGES_EVERY_S, self.age_checked_cells)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), US_EASTERN)

    @property
    def selected_receipt(self) -> str | None:
        """The receipt number of the case under the cursor; None with no row, or on a
        client's header row."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None or is_header(row_key.value) else row_key.value

    @property
    def filling(self) -> bool:
        """True while rows are still being added (:meth:`fill`)."""
        return bool(self._pending)

    def on_resize(self) -> None:
        self.call_later(self._fit_columns)

    def _fit_columns(self) -> None:
        """Fit the columns to the pane: a resized pane, the drawer opened or closed. When
        the same columns fit, only the widths of the label and the status change (the
        rows are kept, the shown ones painted again); else the rows are added again."""
        fitted = fit_columns(self.outer_size.width)
        if fitted == self.column_widths:
            return
        if tuple(fitted) != self.shown_columns:  # the width crossed a column's
            selected = self.selected_receipt
            self.column_widths = fitted
            self.clear(columns=True)
            self._add_columns()
            self.fill(select=selected)
            return
        self.column_widths = fitted
        for key, width in fitted.items():
            self.columns[ColumnKey(key)].width = width
        self._clear_caches()  # renderings of the old widths
        self._require_update_dimensions = True  # the virtual width, on idle
        self.refresh()

    def watch_text_filter(self) -> None:
        if self._settling is not None:
            self._settling.stop()
        if len(self.watchlist) < SETTLE_FROM_CASES:
            self.fill()
        else:  # each fill takes most of a second: once the typing pauses
            self._settling = self.set_timer(FIND_SETTLE_S, self.find_now)

    def find_now(self) -> None:
        """Show the cases of the find text typed, if they wait for the typing to pause."""
        if self._settling is not None:
            self._settling.stop()
            self._settling = None
            self.fill()

    def watch_stage_filter(self) -> None:
        self.fill()

    def watch_sort_column(self) -> None:
        self.fill()

    def watch_sort_descending(self) -> None:
        self.fill()

    def watch_grouped(self) -> None:
        self.fill()

    def watch_stage_styles(self) -> None:
        if self.row_count:
            self.fill()

    def cycle_stage_filter(self) -> None:
        """Show only the cases of the next stage seen on the watchlist, then the failing
        cases (when there are any), then all again."""
        order = stage_cycle(self.watchlist.cases.values())
        position = order.index(self.stage_filter) if self.stage_filter in order else 0
        self.stage_filter = order[(position + 1) % len(order)]

    def cycle_sort(self) -> None:
        """Sort by the next column shown (the palette sorts by any); after the last,
        back to the watchlist's order."""
        keys: list[str | None] = [None, *self.shown_columns]
        current = keys.index(self.sort_column) if self.sort_column in keys else 0
        self.sort_by(keys[(current + 1) % len(keys)])

    def sort_by(self, column: str | None, descending: bool = False) -> None:
        """Sort by ``column`` (None: the watchlist's order), reversed when
        ``descending``: one refill."""
        if (column, descending) == (self.sort_column, self.sort_descending):
            return
        self.set_reactive(CaseTable.sort_descending, descending and column is not None)
        self.set_reactive(CaseTable.sort_column, column)
        self.fill()

    def choose_sort(self, column: str) -> None:
        """Sort by ``column``; when the table is sorted by it already, the other way."""
        self.sort_by(column, column == self.sort_column and not self.sort_descending)

    def reverse_sort(self) -> bool:
        """Sort the other way; False when the table is in the watchlist's order."""
        if self.sort_column is None:
            return False
        self.sort_descending = not self.sort_descending
        return True

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.column_key.value is not None:  # a click on a heading
            self.choose_sort(event.column_key.value)

    def visible_cases(self) -> list[WatchedCase]:
        """The cases shown, in the table's order (without the client headers)."""
        cases = self.watchlist.cases
        return [cases[key] for key in self._shown if not is_header(key)]

    def fill(self, select: str | None = None) -> None:
        """Show the cases that pass the filters, in the chosen order; keep the cursor on
        ``select`` (or on the selected case) when it is shown.

        The first :data:`FIRST_ROWS` rows are added at once, the others
        :data:`ROWS_PER_BATCH` at a time between the event loop's other work, so 10,000
        cases paint about as fast as 50 and keys are answered while the rest fill in.
        The rows up to the kept case, and a screenful after it, are added at once too:
        a key pressed right after a re-sort or a change of columns acts on the case
        under the cursor, not on the first row while the kept one is still to come.
        """
        keep = select or self.selected_receipt
        self.clear()
        self.full_width_rows.clear()
        column = self.sort_column
        cases: Iterable[WatchedCase] = self.watchlist.cases.values()
        if (case_filter := self.stage_filter) is not None:
            cases = [case for case in cases if admits(case_filter, case)]
        query = parse_query(self.text_filter)
        self._order = RowOrder(
            self._search_texts.select(query, cases) if query else cases,
            None if column is None else sort_key(column, self.response_days),
            descending=self.sort_descending,
            grouped=self.grouped,
        )
        for header in self._order.headers():
            self.full_width_rows[header] = self._order.header_text(header, self.stage_styles)
        self._shown = self._order.rows()
        self._unplaced.clear()
        self.unviewed = {key for key, case in self.watchlist.cases.items() if case.unseen}
        self.show_count()
        self._pending = deque(self._shown)
        position = self._shown.index(keep) if keep in self._shown else 0
        self._add_rows(self._pending, keep, position + FIRST_ROWS)

    def _add_rows(self, pending: deque[str], keep: str | None, count: int) -> None:
        if pending is not self._pending or not self.is_attached:
            return  # a newer fill started over, or the dashboard is closing
        batch = [pending.popleft() for _ in range(min(count, len(pending)))]
        self.append_rows(batch)
        if keep in batch:
            self.move_cursor(row=self.row_count - len(batch) + batch.index(keep))
        if pending:
            self.set_timer(0.001, partial(self._add_rows, pending, keep, ROWS_PER_BATCH))
        else:  # every row is in: the cases that changed meanwhile go to their place
            cases = self.watchlist.cases
            for receipt in [r for r in self._unplaced if r in cases and r in self._order]:
                self._place(cases[receipt])
            self._unplaced.clear()

    def show_count(self) -> None:
        """Title the table with the count of the cases shown (of all, when filtered),
        the filters and the sort order; while the watchlist file is still read, its count
        of cases so far."""
        unread = self.watchlist.unread  # with no filter while the rest is read
        shown, total = len(self._order) + unread, len(self.watchlist) + unread
        parts = [f"Cases · {shown}" if shown == total else f"Cases · {shown} of {total}"]
        if self.unviewed and not unread:  # of every case: n finds them, outside the filters
            parts.append(f"{len(self.unviewed)} changed · n")
        if unread:
            parts.append("reading the watchlist")
        if self.stage_filter is not None:
            parts.append(filter_label(self.stage_filter))
        if self.text_filter:
            parts.append(f"/{self.text_filter}")
        if self.grouped:
            parts.append("by client")
        if self.sort_column is not None:
            way = sort_way(self.sort_column, self.sort_descending)
            parts.append(f"sorted by {HEADINGS[self.sort_column]} {way}")
        self.border_title = Text(" · ".join(parts))  # the find text is not markup

    def update_case(self, case: WatchedCase) -> None:
        """Show what changed in the row of ``case`` (a filtered-out case has no row):
        its cells, its place in a sorted table (found by bisection, the rows between
        shifting by one) and its client's header row."""
        row_key = case.receipt_number.value
        if case.unseen != (row_key in self.unviewed):  # the count in the title moves
            if case.unseen:
                self.unviewed.add(row_key)
            else:
                self.unviewed.discard(row_key)
            self.show_count()
        self.repaint_row(row_key)
        if row_key not in self._order:
            return  # filtered out: no row to place
        if self.filling:
            self._unplaced.add(row_key)  # placed once every row is in
        else:
            self._place(case)

    def _place(self, case: WatchedCase) -> None:
        """Move the row of ``case`` where its order puts it now; update its header."""
        receipt = case.receipt_number.value
        moved = self._order.place(case)
        if moved is None:  # under another client now
            self.fill()
            return
        before, after = moved
        if before != after:
            self._shown.insert(after, self._shown.pop(before))
            self.move_row(receipt, after)
        header = self._order.header_of(receipt)
        if header is not None:
            self.set_full_width_row(header, self._order.header_text(header, self.stage_styles))

    def remove_case(self, receipt: str) -> None:
        """Take away the row of ``receipt`` (a case no longer watched), and its
        client's header row when it was the last case under it."""
        self.unviewed.discard(receipt)
        if receipt not in self._order:  # filtered out: the count of all changes
            self.show_count()
            return
        header = self._order.header_of(receipt)
        _, emptied = self._order.remove(receipt)
        for key in (receipt, emptied):
            if key is None:
                continue
            if key in self._pending:
                self._pending.remove(key)
            else:
                self.remove_row(key)
            self._shown.remove(key)
        if header is not None and emptied is None:
            self.set_full_width_row(header, self._order.header_text(header, self.stage_styles))
        self.show_count()

    def next_changed(self) -> bool:
        """Move to the next case shown with a change not yet viewed, wrapping around
        (its row added at once if still to come); False when there is none."""
        keys = self._shown  # client header rows are never in unviewed
        start = self.cursor_row if self.row_count else -1
        for step in range(1, len(keys) + 1):
            row = (start + step) % len(keys)
            if keys[row] in self.unviewed:
                if row < self.row_count:
                    self.move_cursor(row=row)
                else:
                    self.fill(select=keys[row])
                return True
        return False

    def age_checked_cells(self) -> None:
        """Every :data:`AGES_EVERY_S`: the ages in the Checked column move on, and on a
        new US Eastern day the Due column marks what became overdue (the rows shown are
        painted again, their cells made at the time)."""
        today, before = self._now().date(), self._today
        self._today = today
        if "checked" in self.shown_columns or ("due" in self.shown_columns and today != before):
            self.repaint_rows()

    def row_cells(self, row_key: str) -> list[Text]:
        """The cells of the shown columns for the row ``row_key``, made as it is painted:
        a case's, or blanks under a client's header text (and for a case no longer
        watched, until its row goes)."""
        case = self.watchlist.cases.get(row_key)
        if case is None:
            return [Text("")] * len(self.column_widths)
        return case_cells(
            case,
            self.shown_columns,
            self._now(),
            self.stage_styles,
            self.response_days,
            with_client=not self.grouped,  # under its client's header row
        )
