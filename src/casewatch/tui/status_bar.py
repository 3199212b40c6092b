"""The lines above the table: the title with the bar of the refresh under way, the quota
gauge and the notice of a USCIS outage."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import var
from textual.widgets import Label, ProgressBar

from casewatch.refresh import Outage
from casewatch.timezones import format_time
from casewatch.tui.formats import age_in_words
from casewatch.uscis.limits import RateLimiter
from casewatch.watchlist import WatchedCase


class TitleBar(Horizontal):
    """``casewatch · environment · where`` and, while a refresh pass runs, its bar:
    :attr:`pass_progress` is ``(cases done, cases in the pass)`` then, None when no pass runs
    (the bar hides and keeps its last figures)."""

    pass_progress: var[tuple[int, int] | None] = var(None)

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._title = title

    def compose(self) -> ComposeResult:
        yield Label(self._title, id="title")
        yield ProgressBar(show_eta=False, id="refresh-bar")

    def watch_pass_progress(self, refresh: tuple[int, int] | None) -> None:
        bar = self.query_one("#refresh-bar", ProgressBar)
        bar.set_class(refresh is not None, "-running")
        if refresh is not None:
            done, total = refresh
            bar.update(total=max(total, 1), progress=done)


class QuotaGauge(Horizontal):
    """Requests used today of the daily quota, what is left, the time to the reset at
    midnight US Eastern (:meth:`~casewatch.uscis.quota.QuotaUsage.summary`, as
    ``casewatch quota`` gives them), and the current request rate (requests per second),
    read every second from :attr:`limiter` (nothing is shown before it is set). The
    screen sets :attr:`refreshing` (the rate shows while a pass runs),
    :attr:`paused_until` (when paused automatic refreshes resume) and :attr:`stopped` (why
    refreshing stopped until casewatch is started again). ``clock`` gives Unix time in
    seconds; times are shown in ``zone`` (the ``timezone`` setting)."""

    refreshing: var[bool] = var(False)
    paused_until: var[datetime | None] = var(None)
    stopped: var[str] = var("")

    def __init__(self, clock: Callable[[], float], zone: tzinfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._zone = zone
        self.limiter: RateLimiter | None = None

    def compose(self) -> ComposeResult:
        yield Label("Quota", id="quota-title")
        yield ProgressBar(show_eta=False, show_percentage=False, id="quota-bar")
        yield Label("", id="quota-figures")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.update_figures)

    def watch_refreshing(self) -> None:
        self.update_figures()

    def watch_paused_until(self) -> None:
        self.update_figures()

    def watch_stopped(self) -> None:
        self.update_figures()

    def update_figures(self) -> None:
        """Paint the limiter's usage now: used, left, the countdown to the next midnight
        US Eastern and the hold USCIS asked for with ``Retry-After``
        (:meth:`~casewatch.uscis.quota.QuotaUsage.summary`), the rate while refreshing,
        the pause and the stop."""
        if self.limiter is None:
            return
        usage, now = self.limiter.usage(), self._clock()
        self.query_one(ProgressBar).update(total=usage.daily_quota, progress=usage.used)
        rate = f"{self.limiter.current_rate():.1f} req/s" if self.refreshing else "idle"
        figures = f"{usage.summary(now, self._zone)} · {rate}"
        paused_until = self.paused_until
        if paused_until is not None and now < paused_until.timestamp():
            until = format_time(paused_until, self._zone, with_date=False)
            figures += f" · auto-refresh paused until {until}"
        if self.stopped:
            figures += f" · {self.stopped}"
        self.query_one("#quota-figures", Label).update(figures, layout=False)  # fixed size


class OutageNotice(Label):
    """One line under the quota gauge while USCIS is unreachable (a pass where every
    request failed so: :attr:`~casewatch.refresh.RefreshProgress.all_unreachable`):
    since when, how old the data shown is, and when the next quiet try is. Hidden
    otherwise; it goes as soon as an answer recorded after it began is seen. Owns the
    :class:`~casewatch.refresh.Outage` and its backoff. ``clock`` gives Unix time in
    seconds; times are shown in ``zone`` (the ``timezone`` setting)."""

    def __init__(self, clock: Callable[[], float], zone: tzinfo, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._clock = clock
        self._zone = zone
        self.outage: Outage | None = None
        self._data_from: datetime | None = None
        self._retry_at: datetime | None = None

    def on_mount(self) -> None:
        self.set_interval(30.0, self._paint)  # the age of the data goes on growing

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), self._zone)

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
        self._retry_at = datetime.fromtimestamp(self._clock() + wait_s, self._zone)
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
            f"; trying again at {format_time(self._retry_at, self._zone, with_date=False)}"
            if self._retry_at is not None and self._retry_at > now
            else ""
        )
        since_day = self.outage.since.astimezone(self._zone).date()
        since = format_time(self.outage.since, self._zone, with_date=since_day != now.date())
        self.update(f"⚠ USCIS unreachable since {since} — {data}{retry}")
