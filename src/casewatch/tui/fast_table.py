"""A DataTable of one-line rows and fixed-width columns that changes one row without
repainting the whole table: a row's cells replaced, a row moved to another place (the
rows between shift by one), a column's cells replaced for many rows at once, and rows
drawn as one text across the table (the client headers of the grouped case table).

DataTable keys its rendering caches on one update counter, so its own ``update_cell``
repaints every row, and it has no way to move a row: here only the cached renderings
of the rows concerned are dropped (issue 5's figures with 10,000 cases)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


class FastDataTable(DataTable[str | Text]):
    """A DataTable whose rows are one line high and whose columns have fixed widths;
    the rows keyed in :attr:`full_width_rows` are drawn as that one text across the
    table, in the header's style (the cursor's when on it)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.full_width_rows: dict[str, Text] = {}
        """Row key to the text drawn across the whole row, in place of its cells."""

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
        _discard(self._cell_render_cache, {row_key})
        _discard(self._row_render_cache, {row_key})
        _discard(self._row_renderable_cache, {index}, position=1)
        self._line_cache.clear()  # lines are rebuilt from the cached rows: cheap
        self.refresh_row(index)

    def set_full_width_row(self, row_key: str, text: Text) -> None:
        """Draw the row ``row_key`` as ``text`` across the table, and repaint it."""
        if self.full_width_rows.get(row_key) == text:
            return
        self.full_width_rows[row_key] = text
        self._line_cache.clear()
        if row_key in self.rows:
            self.refresh_row(self.get_row_index(row_key))

    def move_row(self, row_key: str, index: int) -> None:
        """Move the row ``row_key`` to ``index``; the rows between its place and
        ``index`` shift by one. Work in proportion to that distance, in bulk dictionary
        and list updates (the row places and DataTable's cached row order), none per
        row elsewhere in the table; only those rows are painted again. The cursor stays
        on the row it was on."""
        key = RowKey(row_key)
        forward, reverse = self._row_locations._forward, self._row_locations._reverse
        old = forward.get(key)
        if old is None or old == index:
            return
        selected_key = reverse.get(self.cursor_row)
        first, last = min(old, index), max(old, index)
        span = range(first, last + 1)
        keys = [reverse[position] for position in span]
        keys = keys[1:] + keys[:1] if index > old else keys[-1:] + keys[:-1]
        forward.update(zip(keys, span, strict=True))
        reverse.update(zip(span, keys, strict=True))
        ordered = self._ordered_row_cache.get((self.row_count, self._update_count))
        if ordered is not None:  # DataTable's row order, else made again in full
            ordered[first : last + 1] = [self.rows[moved] for moved in keys]
        offsets = self._offset_cache.get(self._update_count)
        if offsets is not None:
            offsets[first : last + 1] = [(moved, 0) for moved in keys]
        _discard_rows(self._cell_render_cache, forward, span)
        _discard_rows(self._row_render_cache, forward, span)
        self._row_renderable_cache.clear()  # keyed by row index: cheap to make again
        self._line_cache.clear()
        if selected_key is not None and forward[selected_key] != self.cursor_row:
            self.move_cursor(row=forward[selected_key])
        self.refresh()

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

    def _get_row_region(self, row_index: int) -> Region:
        # DataTable adds up the heights of every row above this one (work in proportion
        # to the row's index, for each row painted or scrolled to); rows here are one
        # line high, so a row's place is its index.
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        row_width = (
            sum(column.get_render_width(self) for column in self.columns.values())
            + self._row_label_column_width
        )
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(0, y, max(self.size.width, row_width), 1)

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        text = self.full_width_rows.get(row_key.value or "")
        if text is None:
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        on_cursor = self.show_cursor and cursor_location.row == self.get_row_index(row_key)
        component = "datatable--cursor" if on_cursor else "datatable--header"
        style = base_style + self.get_component_styles(component).rich_style
        width = max(self.size.width, self.virtual_size.width)
        options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
        padded = Padding(text, (0, self.cell_padding), expand=True)
        line = self.app.console.render_lines(padded, options, style=style, pad=True)[0]
        return [], [line]


def _discard_rows(cache: LRUCache[Any, Any], places: dict[RowKey, int], span: range) -> None:
    """Drop the entries of ``cache`` (keyed by row key first) of the rows whose place
    (``places``: row key to index) is in ``span``: each row key looked up once (a row
    has many entries; row keys hash slowly)."""
    keys = list(cache.keys())
    row_keys = {id(key[0]): key[0] for key in keys}
    stale = {ident for ident, row_key in row_keys.items() if places.get(row_key, -1) in span}
    for key in keys:
        if id(key[0]) in stale:
            cache.discard(key)


def _discard(cache: LRUCache[Any, Any], values: set[Any], position: int = 0) -> None:
    """Drop the entries of ``cache`` whose key holds one of ``values`` at ``position``:
    one pass over the cache (at most a few thousand entries)."""
    for key in [key for key in cache.keys() if key[position] in values]:  # noqa: SIM118 (no __iter__)
        cache.discard(key)
