"""The dashboard's widgets: the quota gauge, the outage notice and the history drawer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Label, ProgressBar
from textual.widgets.data_table import ColumnKey, RowKey

from casewatch.cases import US_EASTERN, eastern_time
from casewatch.refresh import Outage
from casewatch.tui.formats import (
    age_in_words,
    format_duration,
)
from casewatch.uscis.quota import QuotaUsage, eastern_day, quota_reset_at
from casewatch.watchlist import WatchedCase


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


class QuotaGauge(Horizontal):
    """Requests used today of the daily quota, the time to the reset at midnight US
    Eastern, and the current request rate (requests per second)."""

    def compose(self) -> ComposeResult:
        yield Label("Quota", id="quota-title")
        yield ProgressBar(show_eta=False, show_percentage=False, id="quota-bar")
        yield Label("", id="quota-figures")

    def show(
        self,
        usage: QuotaUsage,
        *,
        now: float,
        rate: float | None,
        paused_until: datetime | None,
        stopped: str = "",
    ) -> None:
        """Paint ``usage`` as of Unix time ``now`` (seconds): the countdown to the next
        midnight US Eastern, the hold USCIS asked for with ``Retry-After`` (until when, US
        Eastern), ``rate`` (requests per second, None when idle),
        ``paused_until``, when paused automatic refreshes resume (US Eastern), and
        ``stopped``, why refreshing stopped until casewatch is started again."""
        self.query_one(ProgressBar).update(total=usage.daily_quota, progress=usage.used)
        to_reset = quota_reset_at(eastern_day(now)).timestamp() - now
        figures = (
            f"{usage.used:,} / {usage.daily_quota:,} today · "
            f"resets in {format_duration(to_reset)} · "
            + ("idle" if rate is None else f"{rate:.1f} req/s")
        )
        if usage.held_until is not None and now < usage.held_until.timestamp():
            figures += f" · USCIS asked to wait until {usage.held_until:%H:%M:%S} ET"
        if paused_until is not None and now < paused_until.timestamp():
            figures += f" · auto-refresh paused until {paused_until:%H:%M} ET"
        if stopped:
            figures += f" · {stopped}"
        self.query_one("#quota-figures", Label).update(figures, layout=False)  # fixed size


class OutageNotice(Label):
    """One line under the quota gauge while USCIS is unreachable (a pass where every
    request failed so: :attr:`~casewatch.refresh.RefreshProgress.all_unreachable`):
    since when, how old the data shown is, and when the next quiet try is. Hidden
    otherwise; it goes as soon as an answer recorded after it began is seen. Owns the
    :class:`~casewatch.refresh.Outage` and its backoff. ``clock`` gives Unix time in
    seconds."""

    def __init__(self, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._clock = clock
        self.outage: Outage | None = None
        self._data_from: datetime | None = None
        self._retry_at: datetime | None = None

    def on_mount(self) -> None:
        self.set_interval(30.0, self._paint)  # the age of the data goes on growing

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), US_EASTERN)

    def failed(self, started: datetime, cases: Iterable[WatchedCase], interval_s: float) -> float:
        """A pass (or a quiet try) that started at ``started`` found USCIS unreachable;
        the data shown is that of ``cases`` (its age: their newest answer). Shows the
        notice and returns the seconds to the next quiet try
        (:meth:`~casewatch.refresh.Outage.retry_after_s`, at most ``interval_s``)."""
        if self.outage is None:
            self.outage = Outage(since=started)
        else:
            self.outage.tries += 1
        wait_s = self.outage.retry_after_s(interval_s)
        self._data_from = max(filter(None, (case.answered_at for case in cases)), default=None)
        self._retry_at = datetime.fromtimestamp(self._clock() + wait_s, US_EASTERN)
        self.add_class("-shown")
        self._paint()
        return wait_s

    def saw(self, answered_at: datetime | None) -> None:
        """A case was recorded, answered at ``answered_at``: an answer since the outage
        began ends it (and hides the notice)."""
        outage = self.outage
        if outage is not None and answered_at is not None and answered_at >= outage.since:
            self.outage = None
            self.remove_class("-shown")

    def _paint(self) -> None:
        if self.outage is None:
            return
        now = self._now()
        data = (
            f"showing data from {age_in_words(self._data_from, now)}"
            if self._data_from is not None
            else "no answer from USCIS yet"
        )
        retry = (
            f"; trying again at {eastern_time(self._retry_at, with_date=False)}"
            if self._retry_at is not None and self._retry_at > now
            else ""
        )
        since = eastern_time(self.outage.since, with_date=self.outage.since.date() != now.date())
        self.update(f"⚠ USCIS unreachable since {since} — {data}{retry}")
