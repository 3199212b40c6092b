"""The lines above the case table on their own: the quota gauge reads its rate limiter
and shows what the screen tells it (a pause, a stop, a pass under way); the title bar
shows the bar of a pass while it runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import ProgressBar

from casewatch.cases import US_EASTERN
from casewatch.tui.status_bar import QuotaGauge, TitleBar
from casewatch.uscis.limits import RateLimiter

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN).timestamp()


class StatusOnly(App[None]):
    """The title bar and the gauge, with a clock the test moves."""

    def __init__(self) -> None:
        super().__init__()
        self.now = NOW

    def compose(self) -> ComposeResult:
        yield TitleBar("casewatch · demo · built-in sandbox")
        yield QuotaGauge(lambda: self.now, US_EASTERN)


def figures(app: StatusOnly) -> str:
    return str(app.query_one(QuotaGauge).query_one("#quota-figures").render())


async def test_the_gauge_says_until_when_uscis_asked_to_wait(tmp_path: Path) -> None:
    limiter = RateLimiter(tmp_path / "l.json", tps=10, daily_quota=1000, clock=lambda: NOW)
    limiter.hold(7.0)  # a Retry-After: 7 from any process sharing the ledger
    app = StatusOnly()
    async with app.run_test(size=(160, 5)):
        gauge = app.query_one(QuotaGauge)
        assert figures(app) == ""  # nothing to read yet
        gauge.limiter = limiter
        gauge.update_figures()
        assert "USCIS asked to wait until 09:30:07 EST" in figures(app)
        app.now = NOW + 7.5
        gauge.update_figures()
        assert "USCIS asked" not in figures(app)


async def test_the_gauge_shows_the_pause_the_stop_and_the_rate_it_is_given(
    tmp_path: Path,
) -> None:
    limiter = RateLimiter(tmp_path / "l.json", tps=10, daily_quota=1000, clock=lambda: NOW)
    app = StatusOnly()
    async with app.run_test(size=(200, 5)):
        gauge = app.query_one(QuotaGauge)
        gauge.limiter = limiter
        gauge.update_figures()
        assert figures(app).startswith("0 / 1,000 today · 1,000 left · resets in 14h 30m · idle")
        assert figures(app) == f"{limiter.usage().summary(NOW, US_EASTERN)} · idle"  # as quota
        gauge.refreshing = True
        assert "req/s" in figures(app) and "idle" not in figures(app)
        gauge.paused_until = datetime(2026, 11, 30, 0, 0, tzinfo=US_EASTERN)
        assert "auto-refresh paused until 00:00 EST" in figures(app)
        gauge.stopped = "refreshing stopped: USCIS refused the credentials"
        assert figures(app).endswith(" · refreshing stopped: USCIS refused the credentials")
        app.now = NOW + 15 * 3600  # past midnight: the pause is over
        gauge.update_figures()
        assert "paused" not in figures(app)


async def test_the_title_bar_shows_a_pass_while_it_runs_and_keeps_its_last_figures() -> None:
    app = StatusOnly()
    async with app.run_test(size=(120, 5)):
        title_bar = app.query_one(TitleBar)
        bar = title_bar.query_one(ProgressBar)
        assert not bar.has_class("-running")
        title_bar.pass_progress = (3, 50)
        assert bar.has_class("-running") and (bar.progress, bar.total) == (3, 50)
        title_bar.pass_progress = (50, 50)
        title_bar.pass_progress = None
        assert not bar.has_class("-running") and (bar.progress, bar.total) == (50, 50)
