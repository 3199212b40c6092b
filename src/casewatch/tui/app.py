"""The casewatch dashboard: live case table, history drawer and quota gauge."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import rich
from rich.segment import Segments
from rich.text import Text
from rich.traceback import Traceback
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Label, ProgressBar
from textual.worker import Worker, WorkerState

from casewatch.cases import US_EASTERN, Stage
from casewatch.config import Settings
from casewatch.files import atomic_write_text, os_error_message
from casewatch.hooks import announce_change, change_message
from casewatch.importing import add_imported, parse_import
from casewatch.listing import format_csv, format_json_array
from casewatch.receipts import ReceiptNumber
from casewatch.refresh import Refresher, RefresherLease, RefreshInProgress, quota_reserve
from casewatch.schedule import daily_requests, due_cases
from casewatch.tui.find import matches, sort_key
from casewatch.tui.screens import AddCaseScreen, AskScreen, ConfirmScreen, NewCase
from casewatch.tui.themes import CaseTheme, ThemeError, bundled_theme
from casewatch.tui.widgets import (
    CaseTable,
    HistoryDrawer,
    QuotaGauge,
    format_checked,
    format_date,
    format_days,
    stage_text,
)
from casewatch.uscis.client import CaseStatusClient
from casewatch.uscis.errors import AuthenticationError, QuotaExhausted
from casewatch.watchlist import (
    ChangeEvent,
    Changes,
    DuplicateReceipt,
    WatchedCase,
    Watchlist,
    WatchlistError,
)

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("receipt", "Receipt", 15),
    ("label", "Label", 13),
    ("form", "Form", 7),
    ("status", "Status", 25),
    ("stage", "Stage", 18),
    ("changed", "Changed", 10),
    ("days", "Days", 5),
    ("checked", "Checked", 8),
)
"""Table columns: key, heading, width in cells (fixed, so updates never re-measure)."""

BUSY_NOTICE_S = 3.0
"""Seconds a "refresh already running" toast stays, and before it may show again."""

NARROW_WIDTH = 90
"""Below this many columns the quota gauge drops its bar and keeps its words."""

FOLLOW_EVERY_S = 2.0
"""Seconds between two looks at the watchlist file for changes made by other processes
(another dashboard, casewatch add or refresh, a text editor)."""

FOLLOW_SHARE = 0.2
"""At most this share of the time goes to reading again a file that other processes
keep changing (10,000 cases take about 1.6 s to read: then every 8 s at most)."""

SAVE_RETRY_S = 30.0
"""Seconds between two tries to save a watchlist that could not be written."""

log = logging.getLogger(__name__)


class CaseWatchApp(App[None]):
    """The dashboard. ``clock`` gives Unix time in seconds (frozen in snapshot tests)."""

    TITLE = "casewatch"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("enter", "toggle_drawer", "History", id="toggle_drawer", show=False),
        Binding("escape", "close_drawer", "Close", id="close_drawer"),
        Binding("r", "refresh_selected", "Check case", id="refresh_selected"),
        Binding("R", "refresh", "Refresh all", id="refresh"),
        Binding("n", "next_changed", "Next changed", id="next_changed"),
        Binding("l", "toggle_language", "English/Español", id="toggle_language"),
        Binding("slash", "find", "Find", id="find"),
        Binding("s", "next_stage", "Stage filter", id="next_stage"),
        Binding("o", "next_sort", "Sort", id="next_sort"),
        Binding("i", "import_file", "Import", id="import_file"),
        Binding("x", "export_table", "Export", id="export_table"),
        Binding("a", "add_case", "Add", id="add_case"),
        Binding("e", "edit_label", "Label", id="edit_label"),
        Binding("d", "delete_case", "Delete", id="delete_case"),
        Binding("u", "undo_delete", "Undo", id="undo_delete"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        settings: Settings,
        watchlist: Watchlist,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.watchlist = watchlist
        self.clock = clock
        self.case_theme: CaseTheme | None = None
        self.client: CaseStatusClient | None = None
        self.refresher: Refresher | None = None
        self._next_refresh: Timer | None = None
        self._next_refresh_at: float | None = None
        self._paused_until: datetime | None = None
        self._busy_notice_at = -BUSY_NOTICE_S
        self.spanish = False
        self._shown: list[str] = []  # receipt numbers of the rows, in order
        self._text_filter = ""
        self._stage_filter: Stage | None = None
        self._sort_column: str | None = None
        self._last_removed: tuple[int, WatchedCase] | None = None  # for undo, one level
        self.lease = RefresherLease(watchlist.path)
        self.save_problem: str | None = None  # why the last save or reload failed
        self._retry_save_at = 0.0  # time.monotonic() of the next try after a failed save
        self._follow_at = 0.0  # time.monotonic() before which the file is not read again
        self._lease_problem: str | None = None  # why the refresher lease cannot be taken
        self._follow_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        environment = self.settings.environment
        where = "built-in sandbox" if environment.in_process else environment.host_url
        with Horizontal(id="title-bar"):
            yield Label(f"casewatch · {environment.name} · {where}", id="title")
            yield ProgressBar(show_eta=False, id="refresh-bar")
        yield QuotaGauge(id="quota")
        table = CaseTable(id="cases", cursor_type="row", zebra_stripes=True)
        for key, heading, width in COLUMNS:
            table.add_column(heading, key=key, width=width)
        with Horizontal(id="body"):
            yield table
            yield HistoryDrawer(id="drawer")
        yield Input(placeholder="Find: receipt, label, form, status or stage", id="find")
        yield Footer()

    @property
    def stage_colours(self) -> dict[Stage, str]:
        """The colour of each stage in the current theme."""
        return self.case_theme.stage_colours if self.case_theme else {}

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), US_EASTERN)

    def on_mount(self) -> None:
        try:
            self.case_theme = bundled_theme()
        except ThemeError as exc:
            self.notify(f"{exc}; using Textual's default theme", severity="warning")
        else:
            self.register_theme(self.case_theme.theme)
            self.theme = self.case_theme.theme.name
        self._fill_table()
        self.query_one(CaseTable).focus()
        if not self.watchlist.cases:
            self.notify(
                f"Add cases to {self.watchlist.path}: a [[case]] table each, with "
                "receipt_number and added_at (see the README).",
                title="The watchlist is empty",
                timeout=30,
            )
        self._warn_if_quota_is_short()
        self.client = self.settings.open_client()
        self.refresher = Refresher(
            self.client,
            self.watchlist,
            on_case=self._update_row,
            on_change=self._alert,
            clock=self.clock,
            save=self._save_watchlist,
        )
        self._update_gauge()
        self.set_interval(1.0, self._update_gauge)
        self._follow_timer = self.set_interval(FOLLOW_EVERY_S, self._follow_file)
        self._take_lease()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a toast; warnings and errors also go to the log file."""
        if severity != "information":
            level = logging.ERROR if severity == "error" else logging.WARNING
            log.log(level, "%s", f"{title}: {message}" if title else message)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def _fatal_error(self) -> None:
        # Textual prints a crash's traceback with the values of each frame's local
        # variables, where a client secret or an access token may be held as plain text
        # (httpx's and h11's frames while the token request is sent): print it without
        # them, and log it.
        log.exception("the dashboard crashed")
        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    def on_resize(self, event: events.Resize) -> None:
        self.screen.set_class(event.size.width < NARROW_WIDTH, "-narrow")

    def _warn_if_quota_is_short(self) -> None:
        environment = self.settings.environment
        usable = environment.daily_quota - quota_reserve(environment.daily_quota)
        needed = daily_requests(self.watchlist.cases.values(), self.settings.refresh_minutes)
        if needed > usable:
            self.notify(
                f"At one refresh every {self.settings.refresh_minutes:g} minutes, "
                f"{len(self.watchlist):,} cases need about {needed:,.0f} requests a day; "
                f"the quota allows {usable:,} for automatic refreshes. Cases are checked "
                "less often, the most stale first, so each gets its share.",
                title="More cases than the daily quota",
                severity="warning",
                timeout=30,
            )

    async def on_unmount(self) -> None:
        if self._follow_timer is not None:  # no more following (nor taking the lease back)
            self._follow_timer.stop()
        if self.watchlist.has_unsaved_changes():  # a save cut short by quitting, or failed
            try:
                await self.watchlist.save_async()
            except WatchlistError as exc:
                self.save_problem = str(exc)
            except OSError as exc:
                self.save_problem = os_error_message(exc)
            else:
                self.save_problem = None
        self.lease.release()
        if self.client is not None:
            await self.client.aclose()

    def _cells(self, case: WatchedCase) -> tuple[str | Text, ...]:
        status = case.status
        checked: str | Text = format_checked(case.checked_at, self._now())
        if case.last_error:
            checked = Text(f"⚠ {checked}", style="bold red")
        receipt = (
            Text(f"● {case.receipt_number}", style="bold")
            if case.unseen
            else Text(f"  {case.receipt_number}")
        )
        if status is None:
            return (receipt, case.label, "", "…", "", "", "", checked)
        return (
            receipt,
            case.label,
            status.form_type,
            status.title_en,
            stage_text(status.stage, self.stage_colours),
            format_date(status.last_changed),
            format_days(status.last_changed, self._now()),
            checked,
        )

    def _alert(self, case: WatchedCase, event: ChangeEvent) -> None:
        if event.first:  # the first status of a newly added case is recorded, not alerted
            return
        title, body = change_message(case, event)
        self.notify(body, title=title, timeout=15)
        self.bell()
        if self.settings.on_change or self.settings.notify_urls:
            self.run_worker(self._announce(case, event), group="hooks", exit_on_error=False)

    async def _announce(self, case: WatchedCase, event: ChangeEvent) -> None:
        settings = self.settings
        for problem in await announce_change(settings.on_change, settings.notify_urls, case, event):
            self.notify(problem, title="Change alert failed", severity="warning")

    def _update_row(self, case: WatchedCase) -> None:
        table = self.query_one(CaseTable)
        row_key = case.receipt_number.value
        if row_key in self._shown:  # a filtered-out case has no row
            for (column, _, _), value in zip(COLUMNS, self._cells(case), strict=True):
                table.update_cell(row_key, column, value)
        self._show_progress()
        drawer = self.query_one(HistoryDrawer)
        if drawer.has_class("-open") and self._selected_receipt() == row_key:
            drawer.show(case, self.stage_colours, self._now(), self.spanish)

    def _show_count(self) -> None:
        table = self.query_one(CaseTable)
        shown, total = len(self._shown), len(self.watchlist)
        parts = [f"Cases · {shown}" if shown == total else f"Cases · {shown} of {total}"]
        if self._stage_filter is not None:
            parts.append(f"stage: {self._stage_filter.value}")
        if self._text_filter:
            parts.append(f"/{self._text_filter}")
        if self._sort_column is not None:
            parts.append(f"sorted by {dict((k, h) for k, h, _ in COLUMNS)[self._sort_column]}")
        table.border_title = " · ".join(parts)

    def _visible_cases(self) -> list[WatchedCase]:
        cases = [
            case
            for case in self.watchlist.cases.values()
            if matches(case, self._text_filter, self._stage_filter)
        ]
        if self._sort_column is not None:
            cases.sort(key=sort_key(self._sort_column))
        return cases

    def _fill_table(self, select: str | None = None) -> None:
        """Show the cases that pass the filters, in the chosen order; keep the cursor on
        ``select`` (or on the selected case) when it is shown."""
        table = self.query_one(CaseTable)
        keep = select or self._selected_receipt()
        table.clear()
        cases = self._visible_cases()
        for case in cases:
            table.add_row(*self._cells(case), key=case.receipt_number.value)
        self._shown = [case.receipt_number.value for case in cases]
        self._show_count()
        if keep in self._shown:
            table.move_cursor(row=self._shown.index(keep))

    def _show_progress(self) -> None:
        progress = self.refresher.progress if self.refresher else None
        table = self.query_one(CaseTable)
        running = self.refresher is not None and self.refresher.running
        bar = self.query_one("#refresh-bar", ProgressBar)
        bar.set_class(running, "-running")
        if running and progress is not None:
            bar.update(total=max(progress.total, 1), progress=progress.done)
            table.border_subtitle = f"refreshing {progress.done} of {progress.total}"
        elif not self.lease.held:
            holder = self.lease.holder()
            table.border_subtitle = "refreshed by another casewatch" + (
                f" (pid {holder})" if holder else ""
            )
        elif self._next_refresh_at is not None:
            due = datetime.fromtimestamp(self._next_refresh_at).astimezone()
            table.border_subtitle = f"next refresh {due:%H:%M}"

    @property
    def _refresh_interval_s(self) -> float:
        return self.settings.refresh_minutes * 60

    def _update_gauge(self) -> None:
        if self.client is None:
            return
        limiter = self.client.limiter
        refreshing = self.refresher is not None and self.refresher.running
        self.query_one(QuotaGauge).show(
            limiter.usage(),
            now=self.clock(),
            rate=limiter.current_rate() if refreshing else None,
            paused_until=self._paused_until,
        )

    def _selected_receipt(self) -> str | None:
        table = self.query_one(CaseTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    # Actions

    def action_refresh(self) -> None:
        """Refresh every case now, unless a refresh is already running. A manual refresh
        may spend the quota's reserve that automatic refreshes leave."""
        self._start_refresh(automatic=False)

    def action_refresh_selected(self) -> None:
        """Check the selected case now (a manual check)."""
        receipt = self._selected_receipt()
        if receipt is None or self.refresher is None or self._say_if_busy(self.refresher):
            return
        self.run_worker(
            self._refresh_one(self.watchlist.get(receipt).receipt_number),
            name="refresh",
            group="refresh",
            exit_on_error=False,
        )

    def _say_if_busy(self, refresher: Refresher) -> bool:
        if not refresher.running:
            return False
        if time.monotonic() - self._busy_notice_at > BUSY_NOTICE_S:  # one toast, not a pile
            self._busy_notice_at = time.monotonic()
            self.notify("A refresh is already running.", timeout=BUSY_NOTICE_S)
        return True

    def _start_refresh(self, *, automatic: bool = True) -> None:
        if automatic and not self.lease.held:
            return  # another process refreshes; this one follows the file
        if self.refresher is None or self._say_if_busy(self.refresher):
            return
        if self._next_refresh is not None:
            self._next_refresh.stop()
            self._next_refresh = None
        self.run_worker(
            self._refresh_pass(automatic), name="refresh", group="refresh", exit_on_error=False
        )

    async def _refresh_pass(self, automatic: bool) -> None:
        assert self.refresher is not None and self.client is not None
        wait_s: float | None = self._refresh_interval_s
        self._paused_until = None
        try:
            await self._reload_watchlist()  # what the others checked is not due again
            due = (
                due_cases(self.watchlist.cases.values(), self._now(), self.settings.refresh_minutes)
                if automatic
                else None
            )
            progress = await self.refresher.refresh(due, automatic=automatic)
            if progress.failed:  # each is marked in the table; the log keeps the count
                log.warning("refresh: %d of %d cases failed", progress.failed, progress.total)
            stopped = progress.stopped_by
            if isinstance(stopped, AuthenticationError):
                wait_s = None  # no retry storm: the credentials must change first
                self.notify(
                    f"{stopped}. Nothing more is sent with these credentials: fix them "
                    "(casewatch config shows where they come from) and start casewatch again.",
                    title="Refresh stopped",
                    severity="error",
                    timeout=30,
                )
            elif isinstance(stopped, QuotaExhausted):
                wait_s = self.client.limiter.seconds_to_reset() + 1
                self._paused_until = self.client.limiter.usage().resets_at
                self.notify(str(stopped), title="Refresh paused", severity="warning")
            elif stopped is not None:
                self.notify(str(stopped), title="Refresh stopped", severity="error")
        finally:
            if wait_s is not None:
                self._next_refresh = self.set_timer(wait_s, self._start_refresh)
                self._next_refresh_at = self.clock() + wait_s
            self._show_progress()
            self._update_gauge()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(str(event.worker.error), title="Refresh failed", severity="error")

    def action_toggle_drawer(self) -> None:
        """Open the history drawer for the selected case, or close it."""
        drawer = self.query_one(HistoryDrawer)
        if drawer.has_class("-open"):
            self.action_close_drawer()
            return
        receipt = self._selected_receipt()
        if receipt is None:
            return
        drawer.add_class("-open")
        self._show_in_drawer(receipt)

    def _show_in_drawer(self, receipt: str) -> None:
        case = self.watchlist.get(receipt)
        if case.unseen:  # viewed: the change mark goes, and the file remembers it
            case = self.watchlist.mark_seen(receipt)
            self._update_row(case)
            self._save_soon()
        self.query_one(HistoryDrawer).show(case, self.stage_colours, self._now(), self.spanish)

    def action_toggle_language(self) -> None:
        """Show USCIS's Spanish texts in the drawer, or the English ones again."""
        self.spanish = not self.spanish
        self.notify("Textos en español" if self.spanish else "English texts", timeout=2)
        receipt = self._selected_receipt()
        if receipt is not None and self.query_one(HistoryDrawer).has_class("-open"):
            self._show_in_drawer(receipt)

    # Saving, and following what other processes write

    async def _save_watchlist(self) -> None:
        """Save the watchlist, merged with what other processes wrote. A failure is
        reported once; the cases stay in memory and the save is tried again."""
        try:
            changes = await self.watchlist.save_async()
        except WatchlistError as exc:
            self._report_bad_file(exc)
        except OSError as exc:
            self._retry_save_at = time.monotonic() + SAVE_RETRY_S
            self._report_save_problem(
                f"{os_error_message(exc)}. Your cases are kept in memory; casewatch tries "
                f"again every "
                f"{SAVE_RETRY_S:g} s and at the next change.",
                "Could not save the watchlist",
            )
        else:
            if self.save_problem is not None:
                self.save_problem = None
                self.notify(f"Saved {self.watchlist.path} again.", title="Saved")
            self._show_changes(changes)

    def _report_bad_file(self, exc: WatchlistError) -> None:
        self._report_save_problem(
            f"{exc}\n\ncasewatch keeps your cases in memory and does not save over the "
            "file; it saves them as soon as the file is valid again.",
            "The watchlist file is not valid",
        )

    def _report_save_problem(self, message: str, title: str) -> None:
        if message != self.save_problem:  # once, not at every retry
            self.notify(message, title=title, severity="error", timeout=30)
        self.save_problem = message

    async def _reload_watchlist(self) -> None:
        """Take in what other processes or a text editor wrote to the watchlist."""
        if not self.watchlist.changed_on_disk():
            return
        try:
            changes = await self.watchlist.reload_async()
        except WatchlistError as exc:
            self._report_bad_file(exc)
            return
        except OSError as exc:
            self._report_save_problem(os_error_message(exc), "Could not read the watchlist")
            return
        self._show_changes(changes)
        if self.save_problem is not None or self.watchlist.has_unsaved_changes():
            await self._save_watchlist()

    async def _follow_file(self) -> None:
        """Every :data:`FOLLOW_EVERY_S`: retry a failed save when due, take in the file's
        changes, and take over the automatic refreshes when their holder has exited."""
        if self.save_problem is not None and time.monotonic() >= self._retry_save_at:
            await self._save_watchlist()
        if time.monotonic() >= self._follow_at:
            started = time.monotonic()
            await self._reload_watchlist()
            spent = time.monotonic() - started
            self._follow_at = started + spent / FOLLOW_SHARE
        if not self.lease.held:
            self._take_lease()

    def _take_lease(self) -> None:
        try:
            leader = self.lease.try_take()
        except OSError as exc:  # tried again every FOLLOW_EVERY_S: said once
            message = f"Automatic refreshes are off: {os_error_message(exc)}"
            if message != self._lease_problem:
                self.notify(message, severity="error", timeout=30)
            self._lease_problem = message
            return
        self._lease_problem = None
        if leader:
            self._start_refresh()
        else:
            self._show_progress()  # says who refreshes

    def _show_changes(self, changes: Changes) -> None:
        """Show what a save or a reload brought from other processes: rows updated in
        place (the table refilled when cases came or went), a toast for each change
        another casewatch saw (its hooks ran there, not here)."""
        if not changes:
            return
        cases = self.watchlist.cases
        if any(key not in cases or before is None for key, before in changes.items()):
            self._fill_table()
            drawer = self.query_one(HistoryDrawer)
            if drawer.has_class("-open") and self._selected_receipt() not in cases:
                self.action_close_drawer()
        for key, before in changes.items():
            case = cases.get(key)
            if case is None:
                continue
            self._update_row(case)
            known = before.events if before is not None else ()
            for event in case.events:
                if event not in known and not event.first:
                    title, body = change_message(case, event)
                    self.notify(body, title=f"{title} (seen by another casewatch)", timeout=15)

    def action_next_changed(self) -> None:
        """Move to the next case with a change not yet viewed, wrapping around."""
        table = self.query_one(CaseTable)
        keys = self._shown
        if not keys:
            return
        start = table.cursor_row
        for step in range(1, len(keys) + 1):
            row = (start + step) % len(keys)
            if self.watchlist.get(keys[row]).unseen:
                table.move_cursor(row=row)
                return
        self.notify("No changed case left to view.", timeout=3)

    def action_find(self) -> None:
        """Show the find box: typing filters the table by any text."""
        box = self.query_one("#find", Input)
        box.add_class("-open")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "find":
            self._text_filter = event.value.strip()
            self._fill_table()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "find":
            self.query_one(CaseTable).focus()

    def action_next_stage(self) -> None:
        """Show only the cases of the next stage seen on the watchlist, then all again."""
        present = [
            stage
            for stage in Stage
            if any(c.status and c.status.stage is stage for c in self.watchlist.cases.values())
        ]
        order = [None, *present]
        position = order.index(self._stage_filter) if self._stage_filter in order else 0
        self._stage_filter = order[(position + 1) % len(order)]
        self._fill_table()

    def action_next_sort(self) -> None:
        """Sort by the next column; after the last, back to the watchlist's order."""
        keys: list[str | None] = [None, *(key for key, _, _ in COLUMNS)]
        self._sort_column = keys[(keys.index(self._sort_column) + 1) % len(keys)]
        self._fill_table()

    def action_close_drawer(self) -> None:
        """Close the history drawer (and the find box, clearing it) and give the focus
        back to the table."""
        self.query_one(HistoryDrawer).remove_class("-open")
        box = self.query_one("#find", Input)
        if box.has_class("-open"):
            box.remove_class("-open")
            box.value = ""
        self.query_one(CaseTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_toggle_drawer()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        drawer = self.query_one(HistoryDrawer)
        if drawer.has_class("-open") and event.row_key.value is not None:
            self._show_in_drawer(event.row_key.value)

    # Managing the watchlist: add, edit a label, delete and undo

    def _save_soon(self) -> None:
        self.run_worker(self._save_watchlist(), group="save", exit_on_error=False)

    def action_add_case(self) -> None:
        """Ask for a receipt number and a label, then watch that case."""
        self.push_screen(AddCaseScreen(self.watchlist), self._add_case)

    def _add_case(self, new: NewCase | None) -> None:
        if new is None:
            return
        try:
            case = self.watchlist.add(new.receipt, label=new.label, added_at=self._now())
        except DuplicateReceipt as exc:
            self.notify(str(exc), severity="warning")
            return
        self._fill_table(select=case.receipt_number.value)
        self._save_soon()
        if self.refresher is not None and not self.refresher.running:
            self.run_worker(
                self._refresh_one(case.receipt_number),
                name="refresh",
                group="refresh",
                exit_on_error=False,
            )

    async def _refresh_one(self, receipt: ReceiptNumber) -> None:
        """Check one new case now (a manual check); the refresh schedule stays as it is."""
        assert self.refresher is not None
        try:
            progress = await self.refresher.refresh([receipt], automatic=False)
        except RefreshInProgress:
            return  # the next pass checks it
        finally:
            self._show_progress()
            self._update_gauge()
        if progress.stopped_by is not None:
            self.notify(str(progress.stopped_by), title="Check stopped", severity="warning")

    def action_edit_label(self) -> None:
        """Edit the label of the selected case."""
        receipt = self._selected_receipt()
        if receipt is None:
            return
        case = self.watchlist.get(receipt)

        def done(label: str | None) -> None:
            if label is None or receipt not in self.watchlist.cases:
                return
            self._update_row(self.watchlist.set_label(receipt, label))
            self._save_soon()

        self.push_screen(AskScreen(f"Label of {case.receipt_number}", case.label, "Label"), done)

    def action_delete_case(self) -> None:
        """Stop watching the selected case, after a confirmation; u brings it back."""
        receipt = self._selected_receipt()
        if receipt is None:
            return
        case = self.watchlist.get(receipt)
        label = f" ({case.label})" if case.label else ""

        def done(confirmed: bool | None) -> None:
            if confirmed and receipt in self.watchlist.cases:
                self._delete_case(receipt)

        self.push_screen(ConfirmScreen(f"Stop watching {receipt}{label}?"), done)

    def _delete_case(self, receipt: str) -> None:
        index = list(self.watchlist.cases).index(receipt)
        case = self.watchlist.remove(receipt)
        self._last_removed = (index, case)
        self.query_one(CaseTable).remove_row(receipt)
        self._shown.remove(receipt)
        self._show_count()
        if self.query_one(HistoryDrawer).has_class("-open"):
            self.action_close_drawer()
        self._save_soon()
        label = f" ({case.label})" if case.label else ""
        self.notify(f"Removed {receipt}{label}. Press u to undo.", timeout=5)

    def action_undo_delete(self) -> None:
        """Put the last removed case back, with all its data, where it was."""
        if self._last_removed is None:
            self.notify("Nothing to undo.", timeout=3)
            return
        index, case = self._last_removed
        try:
            self.watchlist.restore(case, index)
        except DuplicateReceipt as exc:
            self.notify(str(exc), severity="warning")
            self._last_removed = None
            return
        self._last_removed = None
        self._fill_table(select=case.receipt_number.value)  # rows cannot be inserted mid-table
        self._save_soon()

    # Import and export

    def action_import_file(self) -> None:
        """Add the receipt numbers of a text or CSV file (one per line, or a receipt
        column); the lines that are not receipt numbers are listed in a toast."""

        def done(answer: str | None) -> None:
            if answer:
                self._import(Path(answer).expanduser())

        self.push_screen(
            AskScreen("Import receipt numbers from a text or CSV file", "", "path/to/file.csv"),
            done,
        )

    def _import(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            self.notify(f"Cannot read {path}: {exc}", title="Import failed", severity="error")
            return
        good, bad = parse_import(text)
        added, skipped = add_imported(self.watchlist, good, self._now())
        problems = [f"line {line}: {content!r}: {why}" for line, content, why in bad]
        problems += [f"line {line}: {why}" for line, why in skipped]
        if added:
            self._fill_table(select=added[0].receipt_number.value)
            self._save_soon()
        summary = f"{len(added)} added from {path.name}"
        if problems:
            shown = "\n".join(problems[:5]) + ("\n…" if len(problems) > 5 else "")
            summary += f"; {len(problems)} not added:\n{shown}"
        self.notify(summary, title="Import", severity="warning" if problems else "information")

    def action_export_table(self) -> None:
        """Write the cases shown in the table to a .csv or .json file."""

        def done(answer: str | None) -> None:
            if answer:
                self._export(Path(answer).expanduser())

        self.push_screen(
            AskScreen("Export the table to a .csv or .json file", "casewatch-export.csv"), done
        )

    def _export(self, path: Path) -> None:
        cases = self._visible_cases()
        if path.suffix.lower() == ".json":
            text = format_json_array(cases)
        elif path.suffix.lower() == ".csv":
            text = format_csv(cases)
        else:
            self.notify(f"{path.name}: give a name ending in .csv or .json", severity="warning")
            return
        try:
            atomic_write_text(path, text)
        except OSError as exc:
            self.notify(str(exc), title="Export failed", severity="error")
            return
        self.notify(f"{len(cases)} cases written to {path}", title="Export")
