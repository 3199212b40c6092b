"""The dashboard screen: the title and quota lines, the case table, the history drawer
and the find box, bound to the screen's state; a thin action for every key; what the
workers and the watchlist sync tell it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.style import Style
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer
from textual.worker import Worker, WorkerState

from casewatch.cases import US_EASTERN
from casewatch.config import Settings
from casewatch.refresh import Refresher
from casewatch.stages import Stage
from casewatch.tui.attention_view import show_attention
from casewatch.tui.case_table import CaseTable
from casewatch.tui.case_view import CaseView
from casewatch.tui.drawer import HistoryDrawer
from casewatch.tui.editing import CaseEditing
from casewatch.tui.find import FindBox
from casewatch.tui.keys import DASHBOARD_BINDINGS, NEEDING_EVERY_CASE
from casewatch.tui.messages import (
    CaseChanged,
    CaseUpdated,
    LeaseTaken,
    RefreshEnded,
    SaveProblem,
    WatchlistRead,
    WatchlistSynced,
)
from casewatch.tui.passes import RefreshSchedule
from casewatch.tui.refreshing import (
    Toast,
    change_alert,
    changes_seen_elsewhere,
    quota_warning,
    run_hooks,
)
from casewatch.tui.statistics_view import show_statistics
from casewatch.tui.status_bar import OutageNotice, QuotaGauge, TitleBar
from casewatch.tui.sync import FOLLOW_EVERY_S, WatchlistSync
from casewatch.uscis.client import CaseStatusClient
from casewatch.watchlist import ChangeEvent, WatchedCase, Watchlist, WatchlistError

WORKER_FAILED = {
    "refresh": "Refresh failed",
    "check": "Check failed",
    "save": "Save failed",
    "hooks": "Change alert failed",
    "read": "Reading the watchlist failed",
}
"""The title of the toast of a worker that failed unexpectedly, by its group."""


class Dashboard(Screen[None]):
    """The dashboard of the app's watchlist. Its state flows down to the widgets
    (:attr:`stage_styles`, :attr:`spanish`, the refresh and the quota); what happens
    comes up as messages. The state is held in ``var``s, not repainting reactives: a
    change repaints the widgets bound to it, not the whole screen (a full repaint at
    each case a refresh answers would slow the keys)."""

    BINDINGS = DASHBOARD_BINDINGS

    stage_styles: var[dict[Stage, Style]] = var(dict)
    """The style of each stage in the current theme (the app sets it)."""
    spanish: var[bool] = var(False)
    """USCIS's Spanish texts in the drawer (``l``)."""
    refreshing: var[bool] = var(False)
    """A pass runs (the gauge shows the request rate)."""
    pass_progress: var[tuple[int, int] | None] = var(None)
    """``(cases done, cases in the pass)`` while a pass runs (the title bar's bar)."""
    paused_until: var[datetime | None] = var(None)
    """When automatic refreshes paused by a spent quota resume (US Eastern)."""
    stopped: var[str] = var("")
    """Why refreshing stopped until casewatch is started again (refused credentials)."""

    def __init__(
        self, settings: Settings, watchlist: Watchlist, clock: Callable[[], float]
    ) -> None:
        super().__init__()
        self.settings = settings
        self.watchlist = watchlist
        self.clock = clock
        """Unix time in seconds (frozen in snapshot tests)."""
        self.client: CaseStatusClient | None = None
        self.refresher: Refresher | None = None
        self.sync = WatchlistSync(watchlist, self.post_message)
        self.load_error: WatchlistError | OSError | None = None
        """Why the rest of the watchlist file could not be read (the dashboard ended)."""
        self.editing = CaseEditing(self)
        self.refreshes = RefreshSchedule(self)
        self.view = CaseView(self)
        self._follow_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        environment = self.settings.environment
        where = "built-in sandbox" if environment.in_process else environment.host_url
        yield TitleBar(f"casewatch · {environment.name} · {where}", id="title-bar").data_bind(
            Dashboard.pass_progress
        )
        zone = self.settings.timezone
        yield QuotaGauge(self.clock, zone, id="quota").data_bind(
            Dashboard.refreshing, Dashboard.paused_until, Dashboard.stopped
        )
        yield OutageNotice(self.clock, zone, id="outage")
        with Horizontal(id="body"):
            yield CaseTable(
                self.watchlist, self.clock, response_days=self.settings.response_days, id="cases"
            ).data_bind(Dashboard.stage_styles)
            yield HistoryDrawer(
                self.clock, zone, response_days=self.settings.response_days, id="drawer"
            ).data_bind(Dashboard.stage_styles, Dashboard.spanish)
        yield FindBox(id="find")
        yield Footer()

    @property
    def table(self) -> CaseTable:
        """The case table."""
        return self.query_one(CaseTable)

    @property
    def drawer(self) -> HistoryDrawer:
        """The history drawer."""
        return self.query_one(HistoryDrawer)

    def now(self) -> datetime:
        """The current time, US Eastern (from :attr:`clock`)."""
        return datetime.fromtimestamp(self.clock(), US_EASTERN)

    def toast(self, toast: Toast) -> None:
        """Show ``toast`` (it also goes to the log when a warning or an error)."""
        self.notify(
            toast.message, title=toast.title, severity=toast.severity, timeout=toast.timeout
        )

    # Starting: the first cases show, the rest of the file is read, the work starts

    def on_mount(self) -> None:
        watchlist, settings = self.watchlist, self.settings
        self.table.fill(select=self.view.restore())  # the view of the last run
        self.table.focus()
        if not watchlist.cases:
            self.notify(
                f"Add cases to {watchlist.path}: a [[case]] table each, with "
                "receipt_number and added_at (see the README).",
                title="The watchlist is empty",
                timeout=30,
            )
        self.client = settings.open_client()
        self.refresher = Refresher(
            self.client,
            watchlist,
            on_case=self._post_case_updated,
            on_change=self._post_case_changed,
            clock=self.clock,
            save=self.sync.save,
        )
        gauge = self.query_one(QuotaGauge)
        gauge.limiter = self.client.limiter
        gauge.update_figures()
        if watchlist.unread:  # once the first cases show
            self.call_after_refresh(self.run_worker, self._read_the_rest(), group="read")
        else:
            self._start_work()

    def _post_case_updated(self, case: WatchedCase) -> None:
        self.post_message(CaseUpdated(case))

    def _post_case_changed(self, case: WatchedCase, event: ChangeEvent) -> None:
        self.post_message(CaseChanged(case, event))

    async def _read_the_rest(self) -> None:
        """Read the whole watchlist file, the first cases of which show
        (:meth:`Watchlist.load_first`). A file that does not parse, or cannot be read,
        ends the dashboard with the message ``casewatch`` gives for it at start
        (:attr:`load_error`); the file is left as it is."""
        try:
            await self.watchlist.reload_async()
        except (WatchlistError, OSError) as exc:
            self.load_error = exc
            self.app.exit(return_code=2)
            return
        self.post_message(WatchlistRead())

    @on(WatchlistRead)
    def _read(self) -> None:
        self.table.fill(select=self.view.restore())  # the view of the last run, now
        self.refresh_bindings()
        if self.watchlist.has_unsaved_changes():  # cases viewed meanwhile
            self.save_soon()
        self._start_work()

    def _start_work(self) -> None:
        """With every case read: warn of a short quota, follow the file, and refresh
        when this process takes the refresher lease."""
        self.call_after_refresh(self._warn_if_quota_is_short)  # after the table shows
        self._follow_timer = self.set_interval(FOLLOW_EVERY_S, self._follow_file)
        if not self.sync.take_lease():
            self.refreshes.show_progress()  # says who refreshes

    def _warn_if_quota_is_short(self) -> None:
        if not self.sync.lease.held:
            return  # the dashboard that refreshes says it; this one follows the file
        warning = quota_warning(self.settings, self.watchlist)
        if warning is not None:
            self.toast(warning)

    async def _follow_file(self) -> None:
        await self.sync.follow()
        if not self.sync.lease.held:
            self.refreshes.show_progress()  # says who refreshes

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The actions of :data:`NEEDING_EVERY_CASE` wait until the whole watchlist
        file is read: None (their keys greyed out in the footer) until then."""
        return None if self.watchlist.unread and action in NEEDING_EVERY_CASE else True

    async def on_unmount(self) -> None:
        if self._follow_timer is not None:  # no more following (nor taking the lease back)
            self._follow_timer.stop()
        if self.load_error is None:
            self.view.remember()
        await self.sync.close(save=self.load_error is None)
        if self.client is not None:
            await self.client.aclose()

    # What the workers and the file tell

    @on(CaseUpdated)
    def _case_updated(self, message: CaseUpdated) -> None:
        self._show_case(message.case)

    def _show_case(self, case: WatchedCase) -> None:
        self.table.update_case(case)
        self.refreshes.show_progress()
        self.query_one(OutageNotice).saw(case.answered_at)
        if self.drawer.is_open and self.table.selected_receipt == case.receipt_number.value:
            self.drawer.case = case

    @on(CaseChanged)
    def _case_changed(self, message: CaseChanged) -> None:
        alert = change_alert(message.case, message.event)
        if alert is None:
            return
        self.toast(alert)
        self.app.bell()
        settings = self.settings
        if settings.on_change or settings.notify_urls:
            hooks = run_hooks(settings, message.case, message.event)
            self.run_worker(hooks, group="hooks", exit_on_error=False)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None:
            title = WORKER_FAILED.get(worker.group, "Failed")
            self.notify(str(worker.error), title=title, severity="error")
        elif event.state == WorkerState.SUCCESS and worker.group == "hooks":
            for toast in worker.result or ():
                self.toast(toast)

    @on(WatchlistSynced)
    def _synced(self, message: WatchlistSynced) -> None:
        """Show what a save or a reload brought from other processes: rows updated in
        place (the table refilled when cases came or went), a toast for each change
        another casewatch saw."""
        changes, cases = message.changes, self.watchlist.cases
        if any(key not in cases or before is None for key, before in changes.items()):
            self.table.fill()
            if self.drawer.is_open and self.table.selected_receipt not in cases:
                self.action_close_drawer()
        for key in changes:
            if key in cases:
                self._show_case(cases[key])
        for toast in changes_seen_elsewhere(changes, cases):
            self.toast(toast)

    @on(SaveProblem)
    def _save_problem(self, message: SaveProblem) -> None:
        timeout = 30 if message.severity == "error" else None
        self.notify(
            message.message, title=message.title, severity=message.severity, timeout=timeout
        )

    @on(LeaseTaken)
    def _lease_taken(self) -> None:
        self.refreshes.start()

    @on(RefreshEnded)
    def _refresh_ended(self, message: RefreshEnded) -> None:
        self.refreshes.ended(message)

    # Refreshing

    def action_refresh(self) -> None:
        """Refresh every case now, unless a refresh is already running. Like the
        automatic refreshes it keeps the quota's reserve for checks of one case (r)."""
        self.refreshes.start(automatic=False)

    def action_refresh_selected(self) -> None:
        """Check the selected case now (a manual check); a toast says what it found."""
        receipt = self.table.selected_receipt
        if receipt is not None:
            case = self.watchlist.get(receipt)
            self.refreshes.check_now([case.receipt_number], say_result=True)

    def action_toggle_drawer(self) -> None:
        """Open the history drawer for the selected case, or close it."""
        if self.drawer.is_open:
            self.action_close_drawer()
            return
        receipt = self.table.selected_receipt
        if receipt is not None:
            self._show_in_drawer(receipt)
            self.drawer.is_open = True

    def _show_in_drawer(self, receipt: str) -> None:
        watchlist = self.watchlist
        case = watchlist.get(receipt)
        if case.unseen:  # viewed: the change mark goes, and the file remembers it
            case = watchlist.mark_seen(receipt)
            self.table.update_case(case)
            self.save_soon()
        self.drawer.case = case

    def action_close_drawer(self) -> None:
        """Close the history drawer and give the focus back to the table."""
        self.drawer.is_open = False
        self.table.focus()

    def action_toggle_language(self) -> None:
        """Show USCIS's Spanish texts in the drawer, or the English ones again."""
        self.spanish = not self.spanish
        self.notify("Textos en español" if self.spanish else "English texts", timeout=2)

    def action_next_changed(self) -> None:
        """Move to the next case with a change not yet viewed, wrapping around; outside
        the filters when none is left in them (dropping them)."""
        self.view.next_changed()

    def action_find(self) -> None:
        """Show the find box: typing filters the table by any text."""
        self.query_one(FindBox).open()

    @on(FindBox.Typed)
    def _find(self, message: FindBox.Typed) -> None:
        self.table.text_filter = message.text

    @on(FindBox.Finished)
    def _found(self) -> None:
        self.table.find_now()
        self.table.focus()

    def action_next_stage(self) -> None:
        """Show only the cases of the next stage seen on the watchlist, then all again."""
        self.table.cycle_stage_filter()

    def action_next_sort(self) -> None:
        """Sort by the next column; after the last, back to the watchlist's order."""
        self.table.cycle_sort()

    def action_add_case(self) -> None:
        """Ask for a receipt number and a label, then watch that case."""
        self.editing.add_case()

    def action_edit_label(self) -> None:
        """Edit the label, client, tags, note and response due date of the selected case."""
        self.editing.edit_case()

    def action_delete_case(self) -> None:
        """Stop watching the selected case, after a confirmation; u brings it back."""
        self.editing.delete_case()

    def action_undo_delete(self) -> None:
        """Undo the last delete or edit, then the one before (a case removed comes back
        with all its data where it was)."""
        self.editing.undo()

    def action_import_file(self) -> None:
        """Import the receipt numbers and details of a text or CSV file, as ``casewatch
        import`` does; a toast reports what was added and changed."""
        self.editing.import_file()

    def action_export_table(self) -> None:
        """Write the cases shown in the table to a .csv or .json file."""
        self.editing.export_table()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_toggle_drawer()

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        try:
            drawer = self.drawer
        except NoMatches:
            return  # quitting: the rows filled in as the dashboard closes
        if drawer.is_open and event.row_key.value in self.watchlist.cases:  # not a header
            self._show_in_drawer(event.row_key.value)

    def save_soon(self) -> None:
        """Save the watchlist in the background (once the whole file is read)."""
        if self.watchlist.unread:
            return  # saved once the whole file is read (WatchlistRead)
        self.run_worker(self.sync.save(), group="save", exit_on_error=False)

    # Finding cases (issue 13, points 4 to 6 and 9)

    def action_escape(self) -> None:
        """Close the innermost thing only: the find box, the drawer, then a filter."""
        self.view.escape()

    def action_mark_all_viewed(self) -> None:
        """Mark every change as viewed (the palette's "Mark all as viewed")."""
        self.view.mark_all_viewed()

    # What needs attention (t) and the statistics (S): issue 14

    def action_attention(self) -> None:
        """Show what needs attention today; enter on an entry goes to its case."""
        show_attention(self)

    def action_statistics(self) -> None:
        """Chart the cases the table shows (it follows the filters)."""
        show_statistics(self)

    # Sort direction and grouping by client (issue 13, point 3; issue 14, point 2)

    def action_reverse_sort(self) -> None:
        """Sort the other way (newest first for Changed)."""
        if not self.table.reverse_sort():
            self.notify("Choose a column to sort by first (o).", timeout=3)

    def action_group_by_client(self) -> None:
        """Group the cases under a header row per client, or list them all again."""
        self.table.grouped = not self.table.grouped
