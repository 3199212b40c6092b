"""Toasts that keep off the work (issue 13, point 7): in a small pane, one line at a time
over the title bar, the others summarized ("+2 more"); in a larger pane Textual's stack,
kept clear of the find box and of the selected row; and the recent notifications, which
the command palette lists ("Recent notifications")."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult, ScreenStackError
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label, Static
from textual.widgets._toast import ToastRack

from casewatch.cases import one_line
from casewatch.listing import cut_text
from casewatch.timezones import format_time

MAX_STACKED = 3
"""Toasts a larger pane shows at once, the newest: a burst of changes (a refresh
finding ten) would otherwise stack over most of the table; the newest says how many
more there are, and the palette's "Recent notifications" lists them all."""

SMALL_WIDTH = 100
SMALL_HEIGHT = 30
"""A pane narrower than :data:`SMALL_WIDTH` columns or shorter than :data:`SMALL_HEIGHT`
lines is small: its toasts are one line, one at a time, over the title bar."""

RECENT_KEPT = 50
"""How many notifications the palette's "Recent notifications" lists, newest first."""

DEFAULT_TIMEOUT_S = 5.0
"""Seconds a toast stays when its sender gives no timeout (Textual's default)."""

_SEVERITY_MARKS = {"information": "·", "warning": "⚠", "error": "✘"}


@dataclass(frozen=True, slots=True)
class Sent:
    """A notification as it was sent: when (Unix time, seconds), its severity, title and
    message, and until when its toast stays (Unix time, seconds)."""

    at: float
    severity: SeverityLevel
    title: str
    message: str
    until: float

    def line(self) -> str:
        """Title and message on one line: ``Refresh stopped: USCIS refused…``."""
        text = f"{self.title}: {self.message}" if self.title else self.message
        return one_line(text)


def is_small(width: int, height: int) -> bool:
    """Whether a pane of ``width`` columns and ``height`` lines is small
    (:data:`SMALL_WIDTH`, :data:`SMALL_HEIGHT`)."""
    return width < SMALL_WIDTH or height < SMALL_HEIGHT


def one_line_toast(sent: Sent, hidden: int, width: int) -> str:
    """The one line of a small pane's toast for ``sent`` in ``width`` columns, cut with
    ``…``, ending with ``+N more`` when ``hidden`` other toasts are not shown."""
    more = f" · +{hidden} more" if hidden else ""
    return cut_text(sent.line(), max(1, width - len(more))) + more


class Toasts:
    """The toasts of ``app``: what was sent (:attr:`recent`, newest first) and where and
    how each shows; :meth:`show` is called by the app's ``notify``. ``clock`` gives the
    Unix time (seconds) a notification is listed with (frozen in snapshot tests); a
    toast's stay is Textual's, in real time."""

    def __init__(self, app: App[None], clock: Callable[[], float]) -> None:
        self.app = app
        self._clock = clock
        self.recent: deque[Sent] = deque(maxlen=RECENT_KEPT)

    def show(
        self, message: str, title: str, severity: SeverityLevel, timeout: float | None
    ) -> tuple[str, str]:
        """Record a notification and return the ``(message, title)`` its toast shows: in
        a small pane one line, those still due summarized as ``+N more`` (the newest
        toast alone shows: ``app.tcss``); in a larger pane as given, the newest
        :data:`MAX_STACKED` shown and the title saying how many more are due. Places
        the toasts (:meth:`place`)."""
        now = time.time()
        stay = DEFAULT_TIMEOUT_S if timeout is None else timeout
        sent = Sent(self._clock(), severity, title, message, now + stay)
        hidden = sum(1 for earlier in self.recent if earlier.until > now)
        self.recent.appendleft(sent)
        self.place()
        width, height = self.app.size
        if not is_small(width, height):
            self.app.call_after_refresh(self._keep_newest)  # once the new toast is in
            beyond = hidden - (MAX_STACKED - 1)
            more = f"+{beyond} more" if beyond > 0 else ""
            return message, " · ".join(part for part in (title, more) if part)
        return one_line_toast(sent, hidden, width - 4), ""  # border and padding: 4 columns

    def _keep_newest(self) -> None:
        """Hide all but the newest :data:`MAX_STACKED` toasts of a larger pane."""
        if (rack := self._rack()) is None:
            return
        holders = list(rack.children)
        for index, holder in enumerate(holders):
            holder.display = index >= len(holders) - MAX_STACKED

    def _rack(self) -> ToastRack | None:
        """The toasts' container on the current screen; None before it is composed (or
        with notifications off)."""
        try:
            return self.app.screen.get_child_by_type(ToastRack)
        except (NoMatches, ScreenStackError):
            return None

    def shown(self) -> bool:
        """Whether a toast may be on screen now (one sent whose stay has not ended)."""
        return bool(self.recent) and self.recent[0].until > time.time()

    def place(self) -> None:
        """Put the screen's toasts where they cover neither the find box nor the
        selected row: a small pane's single line over the title bar (top right); a larger
        pane's stack at the bottom right, above the find box while it is open, or at the
        top right when the selected row is in the lower half of the screen."""
        screen, rack = self.app.screen, self._rack()
        if rack is None:
            return
        width, height = self.app.size
        small = is_small(width, height)
        self.app.set_class(small, "-small-pane")
        top = small or _selected_row_y(screen) > height // 2
        rack.styles.dock = "top" if top else "bottom"
        rack.styles.align_vertical = "top" if top else "bottom"
        below = 0 if top else 1 + _find_box_height(screen)  # the footer, the find box
        rack.styles.margin = (0, 0, below, 0)


def _selected_row_y(screen: Screen[object]) -> int:
    """The screen line of the cursor row of the screen's table (-1: no table)."""
    for table in screen.query(DataTable):
        if table.display and table.row_count:
            row = table.cursor_coordinate.row
            return table.content_region.y + table.header_height + row - round(table.scroll_y)
    return -1


def _find_box_height(screen: Screen[object]) -> int:
    """Lines of the screen's open find box (``#find``), 0 when it is closed."""
    return sum(box.outer_size.height for box in screen.query("#find.-open"))


class RecentNotifications(ModalScreen[None]):
    """The notifications sent since casewatch started (at most :data:`RECENT_KEPT`),
    newest first, each with its time in ``zone`` (the ``timezone`` setting);
    ``escape`` or ``q`` closes it."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="close_notifications")]

    def __init__(self, recent: list[Sent], zone: tzinfo) -> None:
        super().__init__()
        self.recent = recent
        self.zone = zone

    def compose(self) -> ComposeResult:
        rows = Table.grid(padding=(0, 1))
        rows.add_column(no_wrap=True, style="dim")
        rows.add_column(no_wrap=True)
        rows.add_column(ratio=1)
        for sent in self.recent:
            at = format_time(datetime.fromtimestamp(sent.at, self.zone), self.zone)
            rows.add_row(at, _SEVERITY_MARKS[sent.severity], Text(sent.line()))
        with VerticalScroll(classes="dialog help"):
            yield Label("Recent notifications", classes="dialog-title")
            yield Static(rows if self.recent else "No notification yet.", markup=False)
            yield Static("escape closes this list.", classes="dialog-hint", markup=False)

    def action_close(self) -> None:
        """Close the list."""
        self.dismiss(None)
