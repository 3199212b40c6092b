"""A DataTable of one-line rows and fixed-width columns whose cells are made when a row
is painted, never kept: a row is a few dictionary entries, so 100,000 rows are added in
well under a second and hold about 60 MB (issue 16, point 4; 10,000 rows of kept cells
took 1.7 s and 100 MB). It changes one row without repainting the whole table: a row
painted again, a row moved to another place (the rows between shift by one), and rows
drawn as one text across the table (the client headers of the grouped case table).

DataTable keys its rendering caches on one update counter, so its own ``update_cell``
repaints every row, and it has no way to move a row: here only the cached renderings
of the rows concerned are dropped (issue 5's figures with 10,000 cases)."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any

from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widgets import DataTable
from textual.widgets.data_table import (
    CellDoesNotExist,
    ColumnKey,
    DuplicateKey,
    Row,
    RowDoesNotExist,
    RowKey,
)

_NO_CELLS: MappingProxyType[ColumnKey, Text] = MappingProxyType({})
"""What DataTable keeps of each row's cells here: nothing (its cells are made by
:meth:`FastDataTable.row_cells` when painted). Read-only, so that a DataTable method
that would store a cell fails loudly instead of writing into every row."""


class FastDataTable(DataTable[Text]):
    """A DataTable whose rows are one line high and whose columns have fixed widths;
    each row's cells are those :meth:`row_cells` makes for its key, at the time it is
    painted; the rows keyed in :attr:`full_width_rows` are drawn as that one text
    across the table, in the header's style (the cursor's when on it)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.full_width_rows: dict[str, Text] = {}
        """Row key to the text drawn across the whole row, in place of its cells."""

    def row_cells(self, row_key: str) -> list[Text]:
        """The cells of the row ``row_key`` now, one per column in table order; a
        subclass says what they are (a table of blank rows here)."""
        return [Text("")] * len(self.columns)

    def append_rows(self, row_keys: Iterable[str]) -> None:
        """Add rows keyed ``row_keys`` at the bottom, their cells made when painted
        (:meth:`row_cells`). A few dictionary entries a row, none of DataTable's work
        per row (cursor checks, cell measuring): 100,000 rows in about 0.3 s.

        Raises :class:`~textual.widgets.data_table.DuplicateKey` for a key already
        in the table (the rows before it are added)."""
        locations, rows, data = self._row_locations, self.rows, self._data
        was_empty = not rows
        for key in row_keys:
            row_key = RowKey(key)
            if row_key in rows:
                raise DuplicateKey(f"The row key {key!r} already exists.")
            locations[row_key] = len(rows)
            rows[row_key] = Row(row_key, 1)
            data[row_key] = _NO_CELLS  # type: ignore[assignment]
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate  # valid again
        if was_empty and rows and self.show_cursor:
            self._highlight_cursor()  # as add_row does for the first row
        self._update_count += 1
        self.check_idle()

    def get_row(self, row_key: RowKey | str) -> list[Text]:
        """The cells of the row ``row_key`` now (:meth:`row_cells`).

        Raises :class:`~textual.widgets.data_table.RowDoesNotExist` for a key not in
        the table."""
        if row_key not in self._row_locations:
            raise RowDoesNotExist(f"Row key {row_key!r} is not valid.")
        return self.row_cells(row_key.value or "" if isinstance(row_key, RowKey) else row_key)

    def get_cell(self, row_key: RowKey | str, column_key: ColumnKey | str) -> Text:
        """The cell of the row ``row_key`` in the column ``column_key`` now.

        Raises :class:`~textual.widgets.data_table.CellDoesNotExist` for a row or a
        column not in the table."""
        try:
            return self.get_row(row_key)[self.get_column_index(column_key)]
        except (RowDoesNotExist, LookupError):
            raise CellDoesNotExist(
                f"No cell exists for row_key={row_key!r}, column_key={column_key!r}."
            ) from None

    def repaint_row(self, row_key: str) -> None:
        """Paint the row ``row_key`` again, its cells made anew (its case changed).

        DataTable.update_cell marks every row's rendering stale (its caches key on one
        update counter): a full repaint of the table for each case a refresh answers,
        about 50 ms at 120x40 on a slow machine, ten times a second. Here only the
        cached renderings of this row are dropped (rows are one line high)."""
        if row_key not in self.rows:
            return
        index = self.get_row_index(row_key)
        _discard(self._cell_render_cache, {row_key})
        _discard(self._row_render_cache, {row_key})
        _discard(self._row_renderable_cache, {index}, position=1)
        self._line_cache.clear()  # lines are rebuilt from the cached rows: cheap
        self.refresh_row(index)

    def repaint_rows(self) -> None:
        """Paint the rows shown again, their cells made anew (the time moved on: ages
        and overdue dates). Only the rows on screen are made again, whatever the
        table's length."""
        self._clear_caches()
        self.refresh()

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
        _discard_rows(self._cell_render_cache, forward, span)
        _discard_rows(self._row_render_cache, forward, span)
        self._row_renderable_cache.clear()  # keyed by row index: cheap to make again
        self._line_cache.clear()
        if selected_key is not None and forward[selected_key] != self.cursor_row:
            self.move_cursor(row=forward[selected_key])
        self.refresh()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # DataTable measures every cell of every new row to size auto-width columns and
        # auto-height rows: 80,000 measures for 10,000 cases. Here every column has a
        # fixed width and every row one line, so only the virtual size is recomputed.
        super()._update_dimensions(())

    @property
    def _y_offsets(self) -> _OneLineRows:  # type: ignore[override]
        # DataTable lists every line of every row (the row's key and the line in it)
        # again after each change: 100,000 entries a batch of rows added. Rows here are
        # one line high: line y is row y's.
        return _OneLineRows(self._row_locations._reverse)

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


class _OneLineRows:
    """DataTable's ``_y_offsets`` (each line's row key and line in the row) for rows one
    line high, from the table's row places (index to row key): nothing is listed."""

    def __init__(self, keys: dict[int, RowKey]) -> None:
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, y: int) -> tuple[RowKey, int]:
        """The key of the row on line ``y`` and 0; raises :class:`IndexError` past the
        last row."""
        try:
            return self._keys[y], 0
        except KeyError:
            raise IndexError(y) from None

    def clear(self) -> None:
        """What DataTable.clear does to its list of lines: here there is none to clear
        (the row places are cleared with the rows)."""


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
