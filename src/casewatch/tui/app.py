"""The casewatch dashboard: live case table, history drawer and quota gauge."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

import platformdirs
import rich
from rich.segment import Segments
from rich.style import Style
from rich.traceback import Traceback
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.filter import LineFilter, Monochrome, NoColor
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input
from textual.worker import Worker, WorkerState

from casewatch.cases import US_EASTERN, eastern_time
from casewatch.config import Settings
from casewatch.files import atomic_write_text, os_error_message
from casewatch.hooks import announce_change, change_message
from casewatch.importing import ImportFileError, add_imported, parse_import, read_import_file
from casewatch.listing import format_csv, format_json_array
from casewatch.receipts import ReceiptNumber
from casewatch.refresh import Refresher, RefresherLease, quota_reserve
from casewatch.schedule import daily_requests, due_cases
from casewatch.stages import Stage
from casewatch.tui.case_table import CaseTable
from casewatch.tui.dialogs import AddCaseScreen, AskScreen, ConfirmScreen, NewCase
from casewatch.tui.drawer import HistoryDrawer
from casewatch.tui.help import HelpScreen
from casewatch.tui.status_bar import OutageNotice, QuotaGauge, TitleBar
from casewatch.tui.themes import (
    ANSI_THEME,
    DEFAULT_THEME,
    CaseTheme,
    bundled_theme_files,
    load_themes,
    remember_theme,
    remembered_theme,
    stage_styles,
    user_theme_files,
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

BUSY_NOTICE_S = 3.0
"""Seconds a "refresh already running" toast stays, and before it may show again."""

NARROW_WIDTH = 90
"""Below this many columns the quota gauge drops its bar and keeps its words, and the
history drawer covers the table instead of sharing the screen with it."""

NEEDING_EVERY_CASE = frozenset(
    {
        "refresh",
        "refresh_selected",
        "find",
        "next_stage",
        "next_sort",
        "add_case",
        "edit_label",
        "delete_case",
        "undo_delete",
        "import_file",
        "export_table",
    }
)
"""Actions that wait until every case of the watchlist file is read: they check, find,
filter, sort, change or export the cases, or tell whether a case is already watched."""

SHORT_HEIGHT = 20
"""Below this many lines the dialogs drop their spacing and use one-line inputs."""


_NO_COLOUR = NoColor()

FOLLOW_EVERY_S = 2.0
"""Seconds between two looks at the watchlist file for changes made by other processes
(another dashboard, casewatch add or refresh, a text editor)."""

FOLLOW_SHARE = 0.2
"""At most this share of the time goes to reading again a file that other processes
keep changing (a file of 10,000 cases laid out by hand takes about 1.6 s to read:
then every 8 s at most; as casewatch writes it, about 50 ms)."""

SAVE_RETRY_S = 30.0
"""Seconds between two tries to save a watchlist that could not be written."""

log = logging.getLogger(__name__)


class CaseWatchApp(App[None]):
    """The dashboard. ``clock`` gives Unix time in seconds (frozen in snapshot tests)."""

    TITLE = "casewatch"
    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_WIDTH, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT_HEIGHT, "-tall")]
    # The footer shows the most used keys; ? lists them all, ctrl+p runs any of them.
    BINDINGS = [
        Binding("enter", "toggle_drawer", "History", show=False, id="history"),
        Binding(
            "escape",
            "close_drawer",
            "Close",
            show=False,
            id="close_drawer",
            tooltip="Close the history drawer, or the find box (clearing it)",
        ),
        Binding(
            "r",
            "refresh_selected",
            "Check",
            id="refresh_selected",
            tooltip="Check the selected case now",
        ),
        Binding(
            "R",
            "refresh",
            "Refresh all",
            id="refresh",
            tooltip="Refresh every case now (not while a refresh runs)",
        ),
        Binding(
            "n",
            "next_changed",
            "Next changed",
            show=False,
            id="next_changed",
            tooltip="Jump to the next case that changed and was not viewed yet",
        ),
        Binding(
            "l",
            "toggle_language",
            "English/Español",
            show=False,
            id="toggle_language",
            tooltip="Show USCIS's Spanish texts in the drawer, or the English ones",
        ),
        Binding(
            "slash",
            "find",
            "Find",
            id="find",
            tooltip="Filter the table by receipt, label, form, status or stage",
        ),
        Binding(
            "s",
            "next_stage",
            "Stage filter",
            show=False,
            id="next_stage",
            tooltip="Show only the next stage on the watchlist, then all again",
        ),
        Binding(
            "o",
            "next_sort",
            "Sort",
            show=False,
            id="next_sort",
            tooltip="Sort by the next column, then back to the watchlist's order",
        ),
        Binding(
            "a",
            "add_case",
            "Add",
            id="add_case",
            tooltip="Add a case: the receipt number is checked as you type",
        ),
        Binding(
            "e",
            "edit_label",
            "Label",
            show=False,
            id="edit_label",
            tooltip="Edit the label of the selected case",
        ),
        Binding(
            "d",
            "delete_case",
            "Delete",
            show=False,
            id="delete_case",
            tooltip="Stop watching the selected case (asks first)",
        ),
        Binding(
            "u",
            "undo_delete",
            "Undo",
            show=False,
            id="undo_delete",
            tooltip="Put the last removed case back",
        ),
        Binding(
            "i",
            "import_file",
            "Import",
            show=False,
            id="import_file",
            tooltip="Add the receipt numbers of a text or CSV file",
        ),
        Binding(
            "x",
            "export_table",
            "Export",
            show=False,
            id="export_table",
            tooltip="Write the cases shown to a .csv or .json file",
        ),
        Binding("question_mark", "help", "Keys", id="help", tooltip="List every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit casewatch"),
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
        self.case_themes: dict[str, CaseTheme] = {}
        self.stage_styles: dict[Stage, Style] = {}
        self._theme_chosen = False  # True once the theme at start is set
        self.keymap: dict[str, str] = {}
        self.client: CaseStatusClient | None = None
        self.refresher: Refresher | None = None
        self._next_refresh: Timer | None = None
        self._next_refresh_at: float | None = None
        self._busy_notice_at = -BUSY_NOTICE_S
        self.spanish = False
        self._last_removed: tuple[int, WatchedCase] | None = None  # for undo, one level
        self.lease = RefresherLease(watchlist.path)
        self.save_problem: str | None = None  # why the last save or reload failed
        self._retry_save_at = 0.0  # time.monotonic() of the next try after a failed save
        self._follow_at = 0.0  # time.monotonic() before which the file is not read again
        self._lease_problem: str | None = None  # why the refresher lease cannot be taken
        self._follow_timer: Timer | None = None
        self.load_error: WatchlistError | OSError | None = None  # reading the file's rest

    def compose(self) -> ComposeResult:
        environment = self.settings.environment
        where = "built-in sandbox" if environment.in_process else environment.host_url
        yield TitleBar(f"casewatch · {environment.name} · {where}", id="title-bar")
        yield QuotaGauge(self.clock, id="quota")
        yield OutageNotice(self.clock, id="outage")
        with Horizontal(id="body"):
            yield CaseTable(self.watchlist, self.clock, id="cases")
            yield HistoryDrawer(self.clock, id="drawer")
        yield Input(placeholder="Find: receipt, label, form, status or stage", id="find")
        yield Footer()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), US_EASTERN)

    def on_mount(self) -> None:
        self._use_keymap()
        self._use_themes()
        self.query_one(CaseTable).fill()
        self.query_one(CaseTable).focus()
        if not self.watchlist.cases:
            self.notify(
                f"Add cases to {self.watchlist.path}: a [[case]] table each, with "
                "receipt_number and added_at (see the README).",
                title="The watchlist is empty",
                timeout=30,
            )
        self.client = self.settings.open_client()
        self.refresher = Refresher(
            self.client,
            self.watchlist,
            on_case=self._update_row,
            on_change=self._alert,
            clock=self.clock,
            save=self._save_watchlist,
        )
        self.query_one(QuotaGauge).limiter = self.client.limiter
        self._update_gauge()
        if self.watchlist.unread:
            self.call_after_refresh(self._start_reading)  # once the first cases show
        else:
            self._start_work()

    def _start_work(self) -> None:
        """With every case read: warn of a short quota, follow the file, and refresh
        when this process takes the refresher lease."""
        self.call_after_refresh(self._warn_if_quota_is_short)  # after the table shows
        self._follow_timer = self.set_interval(FOLLOW_EVERY_S, self._follow_file)
        self._take_lease()

    def _start_reading(self) -> None:
        self.run_worker(self._read_the_rest(), group="read")

    async def _read_the_rest(self) -> None:
        """Read the whole watchlist file, the first cases of which show
        (:meth:`Watchlist.load_first`), then start the work. A file that does not
        parse, or cannot be read, ends the dashboard with the message ``casewatch``
        gives for it at start (:attr:`load_error`); the file is left as it is."""
        try:
            await self.watchlist.reload_async()
        except (WatchlistError, OSError) as exc:
            self.load_error = exc
            self.exit(return_code=2)
            return
        self.query_one(CaseTable).fill()
        self.refresh_bindings()
        if self.watchlist.has_unsaved_changes():  # cases viewed meanwhile
            self._save_soon()
        self._start_work()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The actions of :data:`NEEDING_EVERY_CASE` wait until the whole watchlist
        file is read: None (their keys greyed out in the footer) until then."""
        return None if self.watchlist.unread and action in NEEDING_EVERY_CASE else True

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Show a toast; warnings and errors also go to the log file. The message is
        not markup unless ``markup`` is True: toasts quote labels, file names and USCIS's
        texts, where a ``[`` is just a character."""
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

    # Themes and keys

    def get_line_filters(self) -> Sequence[LineFilter]:
        """With ``NO_COLOR``, no colour at all: Textual picks its grey filter from the theme
        at start, and grey turns every cell black on black on a 16-colour terminal. The
        stages keep their symbols and words; the cursor row is drawn in reverse video."""
        return [
            _NO_COLOUR if isinstance(line_filter, Monochrome) else line_filter
            for line_filter in super().get_line_filters()
        ]

    def _use_themes(self) -> None:
        """Register the bundled and the user's themes, toast the files that cannot be
        used, and start with the theme asked for (``--theme``), else the one last
        chosen, else the default (the 16-colour one on a 16-colour terminal)."""
        files = bundled_theme_files() + user_theme_files(self.settings.config_path)
        self.case_themes, problems = load_themes(files)
        for problem in problems:
            self.notify(str(problem), title="Theme file not used", severity="warning", timeout=20)
        for case_theme in self.case_themes.values():
            self.register_theme(case_theme.theme)
        asked = self.settings.theme or remembered_theme(self.settings.state_dir)
        if asked is None:  # a 16-colour terminal (TERM=screen) gets the 16-colour theme
            sixteen = not self.is_headless and self.console.color_system == "standard"
            asked = ANSI_THEME if sixteen else DEFAULT_THEME
        if asked not in self.available_themes:
            known = ", ".join(sorted(self.available_themes))
            self.notify(
                f"There is no theme named {asked!r}; using {DEFAULT_THEME}. Themes: {known}",
                title="Unknown theme",
                severity="warning",
                timeout=20,
            )
            asked = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = asked
        self._restyle_stages()  # also when the theme asked for is already the current one
        if self.theme == self.settings.theme:  # --theme NAME, when there is such a theme
            self._remember_theme()
        self._theme_chosen = True

    def watch_theme(self) -> None:
        """A theme chosen in the palette: recolour the stages, remember the choice."""
        if self.case_themes:  # not before on_mount registered the themes
            self._restyle_stages()
            if self._theme_chosen:
                self._remember_theme()

    def _restyle_stages(self) -> None:
        styles = stage_styles(self.current_theme, self.case_themes)
        if styles == self.stage_styles:
            return
        self.stage_styles = styles
        self.query_one(HistoryDrawer).stage_styles = styles
        self.query_one(CaseTable).stage_styles = styles

    def _remember_theme(self) -> None:
        if self.theme == remembered_theme(self.settings.state_dir):
            return
        try:
            remember_theme(self.settings.state_dir, self.theme)
        except OSError as exc:
            self.notify(str(exc), title="Theme not remembered", severity="warning")

    def _case_bindings(self) -> list[tuple[DOMNode, Binding]]:
        """Every binding of the dashboard with an id, with the node that runs it."""
        table = self.query_one(CaseTable)
        found: dict[str, tuple[DOMNode, Binding]] = {}
        for node, bindings in ((table, table.BINDINGS), (self, self.BINDINGS)):
            for binding in bindings:
                if isinstance(binding, Binding) and binding.id:
                    found.setdefault(binding.id, (node, binding))  # enter: the table's
        return list(found.values())

    def _use_keymap(self) -> None:
        """Apply the config file's ``[keys]`` (binding id = keys); toast unknown ids."""
        known = {binding.id for _, binding in self._case_bindings()}
        unknown = sorted(set(self.settings.keys) - known)
        if unknown:
            self.notify(
                f"[keys] in {self.settings.config_path}: unknown {', '.join(unknown)}; "
                f"the ids are: {', '.join(sorted(str(id) for id in known))}",
                title="Keys not remapped",
                severity="warning",
                timeout=30,
            )
        self.keymap = {id: keys for id, keys in self.settings.keys.items() if id in known}
        self.set_keymap(self.keymap)
        users: dict[str, list[str]] = {}
        for _, binding in self._case_bindings():
            for key in self._binding_keys(binding):
                users.setdefault(key, []).append(str(binding.id))
        clashes = [
            f"{key} ({' and '.join(ids)})"
            for key, ids in users.items()
            if len(ids) > 1 and any(id in self.keymap for id in ids)
        ]
        if clashes:
            self.notify(
                f"[keys] in {self.settings.config_path}: a key for two actions works for only "
                f"one of them: {', '.join(clashes)}. Give each its own key.",
                title="Keys remapped twice",
                severity="warning",
                timeout=30,
            )

    def key_list(self) -> list[tuple[str, str, str, str]]:
        """Every action as ``(keys, name, what it does, binding id)``, with the keys as
        remapped by ``[keys]``."""
        return [
            (self._shown_keys(binding), binding.description, binding.tooltip, str(binding.id))
            for _, binding in self._case_bindings()
        ]

    def _binding_keys(self, binding: Binding) -> list[str]:
        """The keys of ``binding``, as remapped by ``[keys]``."""
        return [key.strip() for key in self.keymap.get(str(binding.id), binding.key).split(",")]

    def _shown_keys(self, binding: Binding) -> str:
        """The keys of ``binding`` (as remapped by ``[keys]``) as the footer shows them."""
        return " ".join(
            self.get_key_display(Binding(key, "")) for key in self._binding_keys(binding)
        )

    def action_help(self) -> None:
        """List every key and what it does."""
        self.push_screen(HelpScreen(self.key_list()))

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG screenshot of the screen in the downloads directory."""
        directory = Path(path) if path else platformdirs.user_downloads_path()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(filename, path=str(directory))
        except OSError as exc:
            self.notify(f"Cannot save the screenshot: {exc}", title="Screenshot", severity="error")
            return
        self.notify(f"Saved to {saved}", title="Screenshot")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: Textual's commands (theme, quit, maximize), a screenshot
        that works without a downloads directory, and every casewatch action (whose
        "Keys" lists every key, in place of Textual's panel of the focused widget's)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Screenshot", "Keys"):
                yield command
        yield SystemCommand(
            "Screenshot",
            "Save an SVG of the screen in the downloads directory",
            self.action_screenshot,
        )
        for node, binding in self._case_bindings():
            yield SystemCommand(
                binding.description,
                f"{binding.tooltip} ({self._shown_keys(binding)})",
                partial(self.run_action, binding.action, node),
            )

    def _warn_if_quota_is_short(self) -> None:
        if not self.lease.held:
            return  # the dashboard that refreshes says it; this one follows the file
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
        if self.load_error is None and self.watchlist.has_unsaved_changes():
            # A save cut short by quitting, or failed.
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
        table.update_case(case)
        self._show_progress()
        self.query_one(OutageNotice).saw(case.answered_at)
        drawer = self.query_one(HistoryDrawer)
        if drawer.is_open and table.selected_receipt == case.receipt_number.value:
            drawer.case = case

    def _show_progress(self) -> None:
        progress = self.refresher.progress if self.refresher else None
        running = self.refresher is not None and self.refresher.running
        try:
            table = self.query_one(CaseTable)
            title_bar, gauge = self.query_one(TitleBar), self.query_one(QuotaGauge)
        except NoMatches:
            return  # quitting: a refresh ending as the dashboard closes finds it gone
        gauge.refreshing = running
        title_bar.pass_progress = (
            (progress.done, progress.total) if running and progress is not None else None
        )
        if running and progress is not None:
            table.border_subtitle = f"refreshing {progress.done} of {progress.total}"
        elif not self.lease.held:
            holder = self.lease.holder()
            table.border_subtitle = "refreshed by another casewatch" + (
                f" (pid {holder})" if holder else ""
            )
        elif self._next_refresh_at is not None:
            due = datetime.fromtimestamp(self._next_refresh_at, US_EASTERN)
            table.border_subtitle = f"next refresh {eastern_time(due, with_date=False)}"

    @property
    def _refresh_interval_s(self) -> float:
        return self.settings.refresh_minutes * 60

    def _update_gauge(self) -> None:
        try:
            self.query_one(QuotaGauge).update_figures()
        except NoMatches:
            return  # quitting: a refresh ending as the dashboard closes finds it gone

    # Actions

    def action_refresh(self) -> None:
        """Refresh every case now, unless a refresh is already running. Like the
        automatic refreshes it keeps the quota's reserve for checks of one case (r)."""
        self._start_refresh(automatic=False)

    def action_refresh_selected(self) -> None:
        """Check the selected case now (a manual check)."""
        receipt = self.query_one(CaseTable).selected_receipt
        if receipt is not None:
            self._check_now([self.watchlist.get(receipt).receipt_number])

    def _check_now(self, receipts: list[ReceiptNumber]) -> None:
        """Check these cases now: one case at once, also during a refresh; several (an
        import) in a pass of their own, after the one running."""
        if self.refresher is not None and receipts:
            self.run_worker(self._check(receipts), group="check", exit_on_error=False)

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
        gauge = self.query_one(QuotaGauge)
        gauge.paused_until = None
        started, outage = self._now(), self.query_one(OutageNotice)
        try:
            await self._reload_watchlist()  # what the others checked is not due again
            due = (
                due_cases(self.watchlist.cases.values(), started, self.settings.refresh_minutes)
                if automatic
                else None
            )
            quiet_try = due is not None and outage.outage is not None
            if due is not None and quiet_try:
                due = due[:1]  # USCIS unreachable: a quiet try, one case
            progress = await self.refresher.refresh(due)
            if progress.failed:  # each is marked in the table; the log keeps the count
                log.warning("refresh: %d of %d cases failed", progress.failed, progress.total)
            stopped = progress.stopped_by
            if progress.all_unreachable:  # one notice, not a toast per case
                wait_s = outage.failed(
                    started, self.watchlist.cases.values(), self._refresh_interval_s
                )
            elif quiet_try and outage.outage is None:
                wait_s = 0.001  # USCIS answers again: the cases that failed meanwhile, now
            elif isinstance(stopped, AuthenticationError):
                wait_s = None  # no retry storm: the credentials must change first
                gauge.stopped = "refreshing stopped: USCIS refused the credentials"
                self.notify(
                    f"{stopped}. Nothing more is sent with these credentials: fix them "
                    "(casewatch config shows where they come from) and start casewatch again.",
                    title="Refresh stopped",
                    severity="error",
                    timeout=30,
                )
            elif isinstance(stopped, QuotaExhausted):
                wait_s = self.client.limiter.seconds_to_reset() + 1
                gauge.paused_until = self.client.limiter.usage().resets_at
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
        if drawer.is_open:
            self.action_close_drawer()
            return
        receipt = self.query_one(CaseTable).selected_receipt
        if receipt is None:
            return
        self._show_in_drawer(receipt)
        drawer.is_open = True

    def _show_in_drawer(self, receipt: str) -> None:
        case = self.watchlist.get(receipt)
        if case.unseen:  # viewed: the change mark goes, and the file remembers it
            case = self.watchlist.mark_seen(receipt)
            self._update_row(case)
            self._save_soon()
        self.query_one(HistoryDrawer).case = case

    def action_toggle_language(self) -> None:
        """Show USCIS's Spanish texts in the drawer, or the English ones again."""
        self.spanish = not self.spanish
        self.notify("Textos en español" if self.spanish else "English texts", timeout=2)
        self.query_one(HistoryDrawer).spanish = self.spanish

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
            self.query_one(CaseTable).fill()
            drawer = self.query_one(HistoryDrawer)
            if drawer.is_open and self.query_one(CaseTable).selected_receipt not in cases:
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
        if not self.query_one(CaseTable).next_changed():
            self.notify("No changed case left to view.", timeout=3)

    def action_find(self) -> None:
        """Show the find box: typing filters the table by any text."""
        box = self.query_one("#find", Input)
        box.add_class("-open")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "find":
            self.query_one(CaseTable).text_filter = event.value.strip()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "find":
            self.query_one(CaseTable).focus()

    def action_next_stage(self) -> None:
        """Show only the cases of the next stage seen on the watchlist, then all again."""
        self.query_one(CaseTable).cycle_stage_filter()

    def action_next_sort(self) -> None:
        """Sort by the next column; after the last, back to the watchlist's order."""
        self.query_one(CaseTable).cycle_sort()

    def action_close_drawer(self) -> None:
        """Close the history drawer (and the find box, clearing it) and give the focus
        back to the table."""
        self.query_one(HistoryDrawer).is_open = False
        box = self.query_one("#find", Input)
        if box.has_class("-open"):
            box.remove_class("-open")
            box.value = ""
        self.query_one(CaseTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_toggle_drawer()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        try:
            drawer = self.query_one(HistoryDrawer)
        except NoMatches:
            return  # quitting: the rows filled in as the dashboard closes
        if drawer.is_open and event.row_key.value is not None:
            self._show_in_drawer(event.row_key.value)

    # Managing the watchlist: add, edit a label, delete and undo

    def _save_soon(self) -> None:
        if self.watchlist.unread:
            return  # saved once the whole file is read (_read_the_rest)
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
        self.query_one(CaseTable).fill(select=case.receipt_number.value)
        self._save_soon()
        self._check_now([case.receipt_number])

    async def _check(self, receipts: list[ReceiptNumber]) -> None:
        assert self.refresher is not None
        try:
            if len(receipts) == 1:
                progress = await self.refresher.check(receipts[0])
            else:
                progress = await self.refresher.refresh(receipts, wait=True)
        finally:
            self._show_progress()
            self._update_gauge()
        if progress.stopped_by is not None:
            self.notify(str(progress.stopped_by), title="Check stopped", severity="warning")

    def action_edit_label(self) -> None:
        """Edit the label of the selected case."""
        receipt = self.query_one(CaseTable).selected_receipt
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
        receipt = self.query_one(CaseTable).selected_receipt
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
        self.query_one(CaseTable).remove_case(receipt)
        if self.query_one(HistoryDrawer).is_open:
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
        # Rows cannot be inserted mid-table: the table is filled again.
        self.query_one(CaseTable).fill(select=case.receipt_number.value)
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
            text = read_import_file(path)
        except ImportFileError as exc:
            self.notify(str(exc), title="Import failed", severity="error")
            return
        good, bad = parse_import(text)
        added, skipped = add_imported(self.watchlist, good, self._now())
        problems = [f"line {line}: {content!r}: {why}" for line, content, why in bad]
        problems += [f"line {line}: {why}" for line, why in skipped]
        if added:
            self.query_one(CaseTable).fill(select=added[0].receipt_number.value)
            self._save_soon()
            self._check_now([case.receipt_number for case in added])
        summary = f"{len(added)} added from {path.name}"
        if added and self.refresher is not None and self.refresher.running:
            summary += ", checked when the refresh under way ends"
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
        cases = self.query_one(CaseTable).visible_cases()
        if path.suffix.lower() == ".json":
            text = format_json_array(cases)
        elif path.suffix.lower() == ".csv":
            text = format_csv(cases)
        else:
            self.notify(f"{path.name}: give a name ending in .csv or .json", severity="warning")
            return
        try:
            atomic_write_text(path, text, make_folder=False)
        except OSError as exc:
            self.notify(os_error_message(exc), title="Export failed", severity="error")
            return
        self.notify(f"{len(cases)} cases written to {path.resolve()}", title="Export")
