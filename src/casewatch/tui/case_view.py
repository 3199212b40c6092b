"""What the dashboard's table shows, driven by the keys and the palette: escape closing
one thing at a time, the filters dropped with the cursor kept on its case (issue 13,
point 4), the changed cases found outside the filters and marked as viewed all at once
(point 5), a stage, tag or sort chosen in the palette, and the sort order, filters and
selected case remembered in ``dashboard.toml`` across restarts (point 9)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from casewatch.cases import one_line
from casewatch.files import os_error_message
from casewatch.tui.case_cells import HEADINGS
from casewatch.tui.case_table import CaseTable
from casewatch.tui.dashboard_state import read_dashboard_state, update_dashboard_state
from casewatch.tui.filters import CaseFilter, filter_from_text, filter_text
from casewatch.tui.find import FindBox

if TYPE_CHECKING:
    from casewatch.tui.dashboard import Dashboard

FIND_MAX_CHARS = 200
"""The longest find text taken back from ``dashboard.toml``."""

log = logging.getLogger(__name__)


class CaseView:
    """The filters, the find box and the drawer of ``dashboard`` as the user steps out
    of them."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self._restored: CaseTable | None = None  # the table, once the last view is applied

    @property
    def find_box(self) -> FindBox:
        """The find box under the table."""
        return self.dashboard.query_one(FindBox)

    def escape(self) -> None:
        """Close the innermost thing only, one per press: the find box being typed in
        (clearing it), else the history drawer, else the find text, else the stage or
        tag filter. The cursor stays on the selected case."""
        dashboard, find_box = self.dashboard, self.find_box
        table = dashboard.table
        if find_box.has_focus:
            find_box.close()
        elif dashboard.drawer.is_open:
            dashboard.action_close_drawer()
        elif find_box.is_open or table.text_filter:
            find_box.close()
        elif table.stage_filter is not None:
            table.stage_filter = None
        table.focus()

    def clear_filters(self, select: str | None = None) -> None:
        """Show every case again (the find box closed and cleared), the cursor kept on
        the selected case, or moved to the case ``select`` (a receipt number)."""
        table = self.dashboard.table
        self.find_box.close()
        table.set_reactive(CaseTable.text_filter, "")
        table.set_reactive(CaseTable.stage_filter, None)
        table.fill(select=select)

    def next_changed(self) -> None:
        """Move to the next case with a change not viewed yet; when every one is
        outside the filters, drop them (a toast says so) and move to the next one."""
        dashboard = self.dashboard
        table = dashboard.table
        if table.next_changed():
            return
        if not table.unviewed:
            dashboard.notify("No changed case left to view.", timeout=3)
            return
        self.clear_filters()
        table.next_changed()
        count = len(table.unviewed)
        dashboard.notify(
            f"The filter hid the {count} changed case{'s' * (count != 1)} left to view: "
            "every case is shown again.",
            title="Filter dropped",
            timeout=5,
        )

    def mark_all_viewed(self) -> None:
        """Mark every change as viewed (the ``●`` marks go), and save it as viewing each
        case in the drawer does."""
        dashboard = self.dashboard
        watchlist, table = dashboard.watchlist, dashboard.table
        receipts = sorted(table.unviewed)
        if not receipts:
            dashboard.notify("Every change is viewed already.", timeout=3)
            return
        for receipt in receipts:
            watchlist.mark_seen(receipt)
        table.fill()  # one refill: row by row would repaint the table once per case
        dashboard.save_soon()
        count = len(receipts)
        dashboard.notify(f"{count} change{'s' * (count != 1)} marked as viewed.", timeout=3)

    def show_filter(self, case_filter: CaseFilter | None) -> None:
        """Show only the cases of ``case_filter`` (a stage, the failing cases, a tag),
        or every case (None); the find text stays."""
        self.dashboard.table.stage_filter = case_filter

    def sort_by(self, column: str | None, descending: bool = False) -> None:
        """Sort the table by ``column`` (None: the watchlist's order), the other way
        when ``descending``."""
        self.dashboard.table.sort_by(column, descending)

    def restore(self) -> str | None:
        """Once every case is read (and only once): apply the sort order, the grouping, the filter
        and the find text that ``dashboard.toml`` remembers, and give the remembered
        selected case (None: none, or not watched any more). What is not a column, a
        filter of a stage or a tag still on the watchlist, or text, is ignored."""
        dashboard = self.dashboard
        if self._restored or dashboard.watchlist.unread:
            return None
        table, cases = dashboard.table, dashboard.watchlist.cases
        self._restored = table
        state = read_dashboard_state(dashboard.settings.state_dir)
        sort, descending, grouped, shown, find, selected = (
            state.get(key)
            for key in ("sort", "descending", "grouped", "filter", "find", "selected")
        )
        table.set_reactive(CaseTable.grouped, grouped is True)
        if isinstance(sort, str) and sort in HEADINGS:
            table.set_reactive(CaseTable.sort_column, sort)
            table.set_reactive(CaseTable.sort_descending, descending is True)
        if isinstance(shown, str):
            tags = {tag for case in cases.values() for tag in case.tags}
            table.set_reactive(CaseTable.stage_filter, filter_from_text(shown, tags))
        text = one_line(find)[:FIND_MAX_CHARS].strip() if isinstance(find, str) else ""
        if text:
            table.set_reactive(CaseTable.text_filter, text)
            self.find_box.value = text
            self.find_box.is_open = True
        return selected if isinstance(selected, str) and selected in cases else None

    def remember(self) -> None:
        """Write the sort order (its column and way), the grouping by client, the filter,
        the find text and the selected case into ``dashboard.toml``, for the next start;
        a failure goes to the log."""
        table = self._restored  # unmounted as the dashboard closes, but holding the view
        if table is None:
            return  # quit before every case was read: what was remembered stays
        values = {
            "sort": table.sort_column,
            "descending": table.sort_descending,
            "grouped": table.grouped,
            "filter": None if table.stage_filter is None else filter_text(table.stage_filter),
            "find": table.text_filter or None,
            "selected": table.selected_receipt,
        }
        try:
            update_dashboard_state(self.dashboard.settings.state_dir, values)
        except OSError as exc:
            log.warning("the dashboard's view was not remembered: %s", os_error_message(exc))
