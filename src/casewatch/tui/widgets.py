"""The dashboard's widgets: the quota gauge, the outage notice and the history drawer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


class CaseTable(DataTable[str | Text]):
    """The live case table; ``enter`` (shown in the footer) opens the history drawer.
    Moves with the arrows, ``PgUp``/``PgDn`` and vim's ``j``/``k``/``g``/``G``."""

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

    class Resized(Message):
        """The table's width (border and scrollbar included, in cells) changed."""

        def __init__(self, width: int) -> None:
            super().__init__()
            self.width = width

    def on_resize(self) -> None:
        self.post_message(self.Resized(self.outer_size.width))

    def update_row(self, row_key: str, cells: dict[str, str | Text]) -> None:
        """Replace the cells of the row ``row_key`` that changed (column key to value)
        and repaint that row alone.

        DataTable.update_cell marks every row's rendering stale (its caches key on one
        update counter): a full repaint of the table for each case a refresh answers,
        about 50 ms at 120x40 on a slow machine, ten times a second. Here only the
        cached renderings of this row are dropped (rows are one line high).
        """
        data = self._data[RowKey(row_key)]
        changed = {key: value for key, value in cells.items() if data[ColumnKey(key)] != value}
        if not changed:
            return
        for column, value in changed.items():
            data[ColumnKey(column)] = value
        index = self.get_row_index(row_key)
        _discard(self._cell_render_cache, 0, row_key)
        _discard(self._row_render_cache, 0, row_key)
        _discard(self._row_renderable_cache, 1, index)
        self._line_cache.clear()  # lines are rebuilt from the cached rows: cheap
        self.refresh_row(index)

    def update_column(self, column_key: str, cells: Iterable[tuple[str, str | Text]]) -> None:
        """Replace, in the column ``column_key``, the cells of ``cells`` (row key, value)
        that changed, for many rows at once: one repaint of the table for them all
        (:meth:`DataTable.update_cell` drops the rendering caches as a whole), where
        :meth:`update_row`, row by row, would search the caches once per row (3 s for
        10,000 rows). Rows not in the table are skipped."""
        column = ColumnKey(column_key)
        for row_key, value in cells:
            data = self._data.get(RowKey(row_key))
            if data is not None and data[column] != value:
                self.update_cell(row_key, column_key, value)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # DataTable measures every cell of every new row to size auto-width columns and
        # auto-height rows: 80,000 measures for 10,000 cases. Here every column has a
        # fixed width and every row one line, so only the virtual size is recomputed.
        super()._update_dimensions(())


def _discard(cache: LRUCache[Any, Any], position: int, value: object) -> None:
    """Drop the entries of ``cache`` whose key holds ``value`` at ``position``."""
    for key in [key for key in cache.keys() if key[position] == value]:  # noqa: SIM118 (no __iter__)
        cache.discard(key)
