"""The dashboard's refresh passes: the automatic ones (every ``refresh_minutes``, only
in the process that holds the refresher lease, one at a time), a pass asked for with
``R``, checks of chosen cases, and what their end changes on the screen: the next
pass, the progress line and bar, the quota gauge, the toasts."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from textual.css.query import NoMatches
from textual.timer import Timer

from casewatch.receipts import ReceiptNumber
from casewatch.schedule import due_cases
from casewatch.tui.messages import RefreshEnded
from casewatch.tui.refreshing import check_result, not_recognized_toast, pass_end, refresh_line
from casewatch.tui.status_bar import OutageNotice, QuotaGauge

if TYPE_CHECKING:
    from casewatch.tui.dashboard import Dashboard

BUSY_NOTICE_S = 3.0
"""Seconds a "refresh already running" toast stays, and before it may show again."""

log = logging.getLogger(__name__)


class RefreshSchedule:
    """Runs the passes and the checks of ``dashboard`` (with its refresher) as workers
    that report with :class:`RefreshEnded`, and shows how they go."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self._next_refresh: Timer | None = None
        self.next_refresh_at: float | None = None
        """Unix time in seconds of the next automatic pass; None before the first."""
        self._busy_notice_at = -BUSY_NOTICE_S

    def start(self, *, automatic: bool = True) -> None:
        """Start a pass: ``automatic``, over the cases due, and only when this process
        holds the refresher lease; else over every case. Not while one runs (said in a
        toast, at most every :data:`BUSY_NOTICE_S`)."""
        dashboard = self.dashboard
        if automatic and not dashboard.sync.lease.held:
            return  # another process refreshes; this one follows the file
        refresher = dashboard.refresher
        if refresher is None:
            return
        if refresher.running:
            if time.monotonic() - self._busy_notice_at > BUSY_NOTICE_S:  # one toast
                self._busy_notice_at = time.monotonic()
                dashboard.notify("A refresh is already running.", timeout=BUSY_NOTICE_S)
            return
        if self._next_refresh is not None:
            self._next_refresh.stop()
            self._next_refresh = None
        dashboard.run_worker(
            self._pass(automatic), name="refresh", group="refresh", exit_on_error=False
        )

    async def _pass(self, automatic: bool) -> None:
        dashboard = self.dashboard
        assert dashboard.refresher is not None
        dashboard.paused_until = None
        started, outage = dashboard.now(), dashboard.query_one(OutageNotice)
        progress, quiet_try = None, False
        try:
            await dashboard.sync.reload()  # what the others checked is not due again
            cases = dashboard.watchlist.cases.values()
            minutes = dashboard.settings.refresh_minutes
            due = due_cases(cases, started, minutes) if automatic else None
            quiet_try = due is not None and outage.outage is not None
            if due is not None and quiet_try:
                due = due[:1]  # USCIS unreachable: a quiet try, one case
            progress = await dashboard.refresher.refresh(due)
        finally:
            dashboard.post_message(RefreshEnded("refresh", progress, started, quiet_try))

    def check_now(self, receipts: list[ReceiptNumber], *, say_result: bool = False) -> None:
        """Check these cases now: one case at once, also during a refresh; several (an
        import) in a pass of their own, after the one running. ``say_result``: a toast
        says what the check of one case found (:func:`check_result`; ``r``)."""
        if self.dashboard.refresher is not None and receipts:
            check = self._check(receipts, say_result)
            self.dashboard.run_worker(check, group="check", exit_on_error=False)

    async def _check(self, receipts: list[ReceiptNumber], say_result: bool) -> None:
        refresher, cases = self.dashboard.refresher, self.dashboard.watchlist.cases
        assert refresher is not None
        before = cases.get(receipts[0].value)
        progress = None
        try:
            if len(receipts) == 1:
                progress = await refresher.check(receipts[0])
            else:
                progress = await refresher.refresh(receipts, wait=True)
        finally:
            self.dashboard.post_message(RefreshEnded("check", progress))
        cases = self.dashboard.watchlist.cases
        if say_result and before is not None:
            zone = self.dashboard.settings.timezone
            toast = check_result(before, cases.get(receipts[0].value), progress, zone)
        else:  # one toast for the receipts USCIS does not recognize (added, imported)
            toast = not_recognized_toast(cases[r.value] for r in receipts if r.value in cases)
        if toast is not None:
            self.dashboard.toast(toast)

    def ended(self, ended: RefreshEnded) -> None:
        """A pass or a check ended: schedule the next pass, tell the user what its end
        means, show the progress and the quota."""
        progress = ended.progress
        if ended.kind == "check":
            if progress is not None and progress.stopped_by is not None:
                self.dashboard.notify(
                    str(progress.stopped_by), title="Check stopped", severity="warning"
                )
        else:
            self._schedule_next(ended)
        self.show_progress()
        try:
            self.dashboard.query_one(QuotaGauge).update_figures()
        except NoMatches:
            return  # quitting: a refresh ending as the dashboard closes finds it gone

    def _schedule_next(self, ended: RefreshEnded) -> None:
        """After a pass: when the next one runs, and what the user is told."""
        dashboard = self.dashboard
        assert dashboard.client is not None
        interval_s = dashboard.settings.refresh_minutes * 60
        progress = ended.progress
        wait_s: float | None = interval_s
        if progress is not None:
            if progress.failed:  # each is marked in the table; the log keeps the count
                log.warning("refresh: %d of %d cases failed", progress.failed, progress.total)
            outage = dashboard.query_one(OutageNotice)
            if progress.all_unreachable and ended.started is not None:  # one notice
                cases = dashboard.watchlist.cases.values()
                wait_s = outage.failed(ended.started, cases, interval_s)
            else:
                end = pass_end(
                    progress,
                    interval_s=interval_s,
                    outage_over=ended.quiet_try and outage.outage is None,
                    limiter=dashboard.client.limiter,
                )
                wait_s = end.wait_s
                dashboard.paused_until = end.paused_until
                if end.stopped:
                    dashboard.stopped = end.stopped
                if end.toast is not None:
                    dashboard.toast(end.toast)
        if wait_s is not None:
            self._next_refresh = dashboard.set_timer(wait_s, self.start)
            self.next_refresh_at = dashboard.clock() + wait_s

    def show_progress(self) -> None:
        """Show how the pass under way goes (the bar, the line under the table, the rate
        in the quota gauge), or when the next one is due, or who refreshes."""
        dashboard = self.dashboard
        refresher = dashboard.refresher
        progress = refresher.progress if refresher else None
        running = refresher is not None and refresher.running
        try:
            table = dashboard.table
        except NoMatches:
            return  # quitting: a refresh ending as the dashboard closes finds it gone
        dashboard.refreshing = running
        dashboard.pass_progress = (
            (progress.done, progress.total) if running and progress is not None else None
        )
        lease = dashboard.sync.lease
        line = refresh_line(
            progress,
            running=running,
            lease_held=lease.held,
            holder=None if lease.held or running else lease.holder(),
            next_at=self.next_refresh_at,
            zone=dashboard.settings.timezone,
        )
        if line is not None:
            table.border_subtitle = line
