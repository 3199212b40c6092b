"""What the dashboard's table shows, driven by the keys and the palette: escape closing
one thing at a time, the filters dropped with the cursor kept on its case (issue 13,
point 4), the changed cases found outside the filters and marked as viewed all at once
(point 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from casewatch.tui.case_table import CaseTable
from casewatch.tui.find import FindBox

if TYPE_CHECKING:
    from casewatch.tui.dashboard import Dashboard


class CaseView:
    """The filters, the find box and the drawer of ``dashboard`` as the user steps out
    of them."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard

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

    def clear_filters(self) -> None:
        """Show every case again (the find box closed and cleared), the cursor kept on
        the selected case."""
        table = self.dashboard.table
        self.find_box.close()
        table.set_reactive(CaseTable.text_filter, "")
        table.set_reactive(CaseTable.stage_filter, None)
        table.fill()

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
