"""What the dashboard's table shows, driven by the keys and the palette: escape closing
one thing at a time, the filters dropped with the cursor kept on its case (issue 13,
point 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
