"""The casewatch dashboard app: the settings, the themes, the keys as the config file
remaps them, toasts that reach the log, a crash that shows no secret, and the command
palette. The dashboard itself is a screen (:mod:`casewatch.tui.dashboard`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

import rich
from rich.segment import Segments
from rich.traceback import Traceback
from textual import events, on
from textual.app import App, SystemCommand
from textual.filter import LineFilter, Monochrome, NoColor
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import DataTable

from casewatch.config import Settings
from casewatch.files import os_error_message
from casewatch.tui.commands import case_commands
from casewatch.tui.dashboard import Dashboard
from casewatch.tui.dialogs import AskScreen
from casewatch.tui.help import HelpScreen
from casewatch.tui.keys import Keymap
from casewatch.tui.screenshot import default_screenshot_path, screenshot_target
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
from casewatch.tui.toasts import RecentNotifications, Toasts
from casewatch.watchlist import Watchlist, WatchlistError

NARROW_WIDTH = 90
"""Below this many columns the quota gauge drops its bar and keeps its words, and the
history drawer covers the table instead of sharing the screen with it."""

SHORT_HEIGHT = 20
"""Below this many lines the dialogs drop their spacing and use one-line inputs."""

_NO_COLOUR = NoColor()

log = logging.getLogger(__name__)


class CaseWatchApp(App[None]):
    """The dashboard of ``watchlist``. ``clock`` gives Unix time in seconds (frozen in
    snapshot tests)."""

    TITLE = "casewatch"
    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_WIDTH, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT_HEIGHT, "-tall")]

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
        self._theme_chosen = False  # True once the theme at start is set
        self.keymap = Keymap({}, self.get_key_display)
        self._dashboard: Dashboard | None = None
        self.toasts = Toasts(self, clock)

    def get_default_screen(self) -> Dashboard:
        """The dashboard, made when the app starts (with the settings and the watchlist
        as they are then)."""
        self._dashboard = Dashboard(self.settings, self.watchlist, self.clock)
        return self._dashboard

    @property
    def dashboard(self) -> Dashboard:
        """The dashboard screen (from the start of the app on)."""
        assert self._dashboard is not None, "the app has not started"
        return self._dashboard

    @property
    def load_error(self) -> WatchlistError | OSError | None:
        """Why the rest of the watchlist file could not be read (the dashboard ended with
        return code 2); None when it was read."""
        return self._dashboard.load_error if self._dashboard else None

    @property
    def save_problem(self) -> str | None:
        """Why the last save (the one at quitting included) or reload failed; None when
        the file holds every change."""
        return self._dashboard.sync.save_problem if self._dashboard else None

    def on_mount(self) -> None:
        self._use_keymap()
        self._use_themes()

    def on_key(self, event: events.Key) -> None:
        # Keys typed in one burst after "/" reach the table before the find box has the
        # focus, and bubble up here to the bindings of the widgets focused now: "/c"
        # grouped the table by client. Their characters go to the find box instead.
        if not (event.is_printable and isinstance(self.screen, Dashboard)):
            return  # no look for the find box on every key
        find = self.screen.view.find_box
        if find.typed_before(event):
            event.prevent_default()
            event.stop()
            find.insert_text_at_cursor(event.character or "")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Show a toast where it covers neither the find box nor the selected row, one
        line at a time in a small pane (:class:`~casewatch.tui.toasts.Toasts`); warnings
        and errors also go to the log file. The message is not markup unless ``markup``
        is True: toasts quote labels, file names and USCIS's texts, where a ``[`` is just
        a character."""
        if severity != "information":
            level = logging.ERROR if severity == "error" else logging.WARNING
            log.log(level, "%s", f"{title}: {message}" if title else message)
        message, title = self.toasts.show(message, title, severity, timeout)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    @on(events.Resize)
    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    @on(DataTable.RowHighlighted)
    def _keep_toasts_off_the_work(self) -> None:
        if self.toasts.shown():
            self.toasts.place()

    def action_recent_notifications(self) -> None:
        """List the notifications sent since casewatch started, newest first."""
        recent = RecentNotifications(list(self.toasts.recent), self.settings.timezone)
        self.push_screen(recent)

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
        if styles != self.dashboard.stage_styles:
            self.dashboard.stage_styles = styles  # down to the table and the drawer

    def _remember_theme(self) -> None:
        if self.theme == remembered_theme(self.settings.state_dir):
            return
        try:
            remember_theme(self.settings.state_dir, self.theme)
        except OSError as exc:
            self.notify(str(exc), title="Theme not remembered", severity="warning")

    def _use_keymap(self) -> None:
        """Apply the config file's ``[keys]`` (binding id = keys); toast unknown ids and
        keys given to two actions."""
        self.keymap = Keymap(self.settings.keys, self.get_key_display)
        for title, problem in self.keymap.problems(self.settings.config_path):
            self.notify(problem, title=title, severity="warning", timeout=30)
        self.set_keymap(self.keymap.remapped)

    def key_list(self) -> list[tuple[str, str, str, str]]:
        """Every action as ``(keys, name, what it does, binding id if [keys] remapped
        it)``, with the keys as remapped by ``[keys]``."""
        return self.keymap.key_list()

    def action_help(self) -> None:
        """List every key and what it does."""
        self.push_screen(HelpScreen(self.key_list()))

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Ask where to save an SVG screenshot of the screen (the current directory by
        default), then save it there and say the full path."""
        now = datetime.fromtimestamp(self.clock(), self.settings.timezone)
        default = default_screenshot_path(Path(path or Path.cwd()), now)
        if filename:
            default = default.with_name(filename)

        def save(answer: str | None) -> None:
            if answer:
                target = screenshot_target(answer, default)
                self.call_after_refresh(self._save_screenshot, target)  # without the dialog

        self.push_screen(AskScreen("Save an SVG screenshot to", str(default)), save)

    def _save_screenshot(self, target: Path) -> None:
        try:
            saved = self.save_screenshot(target.name, path=str(target.parent))
        except OSError as exc:
            message = f"Cannot save the screenshot: {os_error_message(exc)}"
            self.notify(message, title="Screenshot", severity="error", timeout=20)
            return
        self.notify(f"Saved to {saved}", timeout=20)  # no title: the path fits a small pane

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: Textual's commands (theme, quit, maximize), a screenshot
        saved where the user says, the recent notifications, and casewatch's entries
        (:func:`~casewatch.tui.commands.case_commands`: every action, whose "Keys" lists
        every key in place of Textual's panel of the focused widget's, and more)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Screenshot", "Keys"):
                yield command
        yield SystemCommand(
            "Screenshot",
            "Save an SVG of the screen to a file you pick (the current directory by default)",
            self.action_screenshot,
        )
        yield SystemCommand(
            "Recent notifications",
            "List the toasts shown since casewatch started, newest first",
            self.action_recent_notifications,
        )
        yield from case_commands(self.dashboard, self.keymap)
