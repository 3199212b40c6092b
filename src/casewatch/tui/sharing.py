"""What the dashboard gives to share (issue 15, points 2 and 3), from the command palette:
the report of the cases the table shows (as ``casewatch report`` writes it, for the
current filter) and the diagnostics of ``casewatch diagnose``, copied to the clipboard
(OSC 52: it works over SSH and in tmux) and saved to a private file."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from casewatch.config import default_config_path
from casewatch.diagnose import diagnostics
from casewatch.files import atomic_write_text, os_error_message
from casewatch.report import build_report
from casewatch.report_formats import render
from casewatch.tui.dialogs import AskScreen

if TYPE_CHECKING:
    from casewatch.tui.dashboard import Dashboard

REPORT_DAYS = 7
"""The days a report from the palette covers, as ``casewatch report`` by default."""

REPORT_FORMATS = {".md": "markdown", ".html": "html", ".csv": "csv", ".txt": "text"}
"""The report's format by the file name's ending."""


def report_format(answer: str) -> str | None:
    """What is wrong with ``answer`` as the report's file name (None: nothing): it must
    end with one of :data:`REPORT_FORMATS`, which chooses the format."""
    if Path(answer.strip()).suffix.lower() in REPORT_FORMATS:
        return None
    return f"{answer or 'The name'}: end it with {', '.join(REPORT_FORMATS)} (the format)"


class Sharing:
    """The palette's "Write a report" and "Diagnostics" for ``dashboard``."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard

    def write_report(self) -> None:
        """Ask where to write the report of the cases shown over the last
        :data:`REPORT_DAYS` days (Markdown by default, in the current directory), then
        write it, private to the user (0600)."""
        dashboard = self.dashboard
        now = dashboard.now()
        default = Path.cwd() / f"casewatch-report-{now:%Y-%m-%d}.md"

        def write(answer: str | None) -> None:
            if answer:
                self._write_report(Path(answer).expanduser().absolute(), now)

        hint = f"The cases shown, changes of the last {REPORT_DAYS} days; relative to {Path.cwd()}"
        ask = AskScreen("Write a report to", str(default), hint=hint, check=report_format)
        dashboard.app.push_screen(ask, write)

    def _write_report(self, path: Path, now: datetime) -> None:
        dashboard, settings = self.dashboard, self.dashboard.settings
        table = dashboard.table
        filtered = table.stage_filter is not None or bool(table.text_filter)
        report = build_report(
            table.visible_cases(),
            (now - timedelta(days=REPORT_DAYS)).date(),
            now,
            days=settings.response_days,
            quiet_days=settings.quiet_days,
            selection=f"the dashboard's {table.border_title}" if filtered else "",
            zone=settings.timezone,
        )
        try:
            atomic_write_text(path, render(report, REPORT_FORMATS[path.suffix.lower()]))
        except OSError as exc:
            dashboard.notify(os_error_message(exc), title="Report not written", severity="error")
            return
        dashboard.notify(
            f"{report.changes} change{'s' * (report.changes != 1)} of {report.cases} cases, "
            f"written to {path} (private to you, 0600).",
            title="Report written",
        )

    def diagnostics(self) -> None:
        """Copy ``casewatch diagnose``'s text to the clipboard and save it to a private
        file in the state directory; a toast says where."""
        self.dashboard.run_worker(self._diagnostics, thread=True, group="diagnostics")

    def _diagnostics(self) -> None:
        settings = self.dashboard.settings
        config = settings.config_path or default_config_path()
        text = diagnostics(settings, config, os.environ, time.time())
        path = settings.state_dir / f"diagnose-{datetime.now(settings.timezone):%Y%m%d-%H%M%S}.txt"
        try:
            atomic_write_text(path, text)
            saved = f" and saved to {path}"
        except OSError as exc:
            saved = f"; not saved: {os_error_message(exc)}"
        self.dashboard.app.call_from_thread(self._copied, text, saved)

    def _copied(self, text: str, saved: str) -> None:
        self.dashboard.app.copy_to_clipboard(text)
        self.dashboard.notify(
            f"Diagnostics copied to the clipboard{saved}: no secret, receipt numbers masked.",
            title="Diagnostics",
        )
