"""The dashboard offline: USCIS unreachable (a loopback port that refuses connections,
then answers), one notice instead of a toast per case, the age of the last good data
kept in the table, quiet retries, and the notice gone when an answer comes back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import stamina
from rich.text import Text

from casewatch.cases import US_EASTERN, parse_case_status
from casewatch.config import DEMO_CREDENTIALS, Environment, Settings
from casewatch.receipts import parse_receipt_number
from casewatch.refresh import Outage
from casewatch.sandbox import synthetic_case
from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_table import CaseTable
from casewatch.tui.formats import format_age
from casewatch.tui.status_bar import OutageNotice
from casewatch.watchlist import Watchlist
from conftest import FROZEN_NOW, ScriptedUSCIS, case_status_answer, scripted_uscis
from pilot_helpers import drawer_text, until

RECEIPTS = ("EAC9999103403", "EAC9999103404")
NOW = datetime.fromtimestamp(FROZEN_NOW, US_EASTERN)
TWO_DAYS_AGO = NOW - timedelta(days=2, hours=1)


@pytest.fixture
def uscis_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedUSCIS]:
    """A scripted USCIS that refuses connections until ``listen()``; the quiet tries
    come at once (no 1-minute wait) and each request is tried once."""
    monkeypatch.setattr("casewatch.refresh.OUTAGE_RETRY_FIRST_S", 0.05)
    answers = {receipt: case_status_answer(receipt) for receipt in RECEIPTS}
    with scripted_uscis(answers, listening=False) as uscis, stamina.set_testing(True, attempts=1):
        yield uscis


def dashboard(tmp_path: Path, url: str, zone: ZoneInfo = US_EASTERN) -> CaseWatchApp:
    """A dashboard on ``url`` whose cases USCIS last answered two days ago; times shown
    in ``zone`` (the ``timezone`` setting)."""
    path = tmp_path / "watchlist.toml"
    watchlist = Watchlist(path)
    for receipt in RECEIPTS:
        number = parse_receipt_number(receipt)
        watchlist.add(number, added_at=TWO_DAYS_AGO)
        watchlist.record_status(number, parse_case_status(synthetic_case(receipt)), TWO_DAYS_AGO)
    watchlist.save()
    settings = Settings(
        environment=Environment("scripted", url, 1000.0, 150_000),
        credentials=DEMO_CREDENTIALS,
        watchlist_path=path,
        state_dir=tmp_path / "state",
        timezone=zone,
    )
    return CaseWatchApp(settings, Watchlist.load(path), clock=lambda: FROZEN_NOW)


def checked_cells(app: CaseWatchApp) -> list[str]:
    table = app.query_one(CaseTable)
    cells = [table.get_cell(receipt, "checked") for receipt in RECEIPTS]
    return [cell.plain if isinstance(cell, Text) else str(cell) for cell in cells]


async def test_unreachable_uscis_shows_one_notice_and_the_age_of_the_data_until_it_answers(
    tmp_path: Path, uscis_down: ScriptedUSCIS, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = dashboard(tmp_path, uscis_down.url)
    toasts: list[str] = []
    async with app.run_test(size=(160, 30)) as pilot:  # wide enough for the Checked column
        monkeypatch.setattr(app, "notify", lambda message, **kw: toasts.append(message))
        notice = app.query_one(OutageNotice)
        await until(pilot, lambda: notice.has_class("-shown"))
        assert notice.has_class("-shown") and notice.display
        shown = str(notice.render())
        assert shown.startswith(
            "⚠ USCIS unreachable since 09:30 EST — showing data from 2 days ago"
        )
        assert checked_cells(app) == ["⚠ 2d", "⚠ 2d"]  # the age of the good data, not of the try
        case = app.watchlist.get(RECEIPTS[0])
        assert case.answered_at == TWO_DAYS_AGO and case.last_error.startswith("Could not reach")
        await pilot.press("enter")  # the drawer says both times, with their zone
        drawer = " ".join(drawer_text(app).split())
        assert "answered 2026-11-27 08:30 EST" in drawer
        assert "Last check failed at 2026-11-29 09:30 EST: Could not reach USCIS" in drawer

        await pilot.press("enter")  # closed: the table shows its Checked column again

        uscis_down.listen()
        await until(pilot, lambda: not notice.has_class("-shown"))
        assert not notice.display
        await until(pilot, lambda: checked_cells(app) == ["now", "now"])
        assert checked_cells(app) == ["now", "now"]
        await app.workers.wait_for_complete()
    assert toasts == []  # no toast per case, nor one for the outage
    # Quiet tries: one case each until USCIS answered, then the other case at once.
    assert uscis_down.requests == {RECEIPTS[0]: 1, RECEIPTS[1]: 1}
    saved = Watchlist.load(tmp_path / "watchlist.toml")
    assert all(case.answered_at == NOW and not case.last_error for case in saved.cases.values())


async def test_the_notice_and_the_drawer_show_times_in_the_timezone_setting(
    tmp_path: Path, uscis_down: ScriptedUSCIS
) -> None:
    app = dashboard(tmp_path, uscis_down.url, ZoneInfo("Europe/Madrid"))
    async with app.run_test(size=(120, 30)) as pilot:
        notice = app.query_one(OutageNotice)
        await until(pilot, lambda: notice.has_class("-shown"))
        assert str(notice.render()).startswith("⚠ USCIS unreachable since 15:30 CET — showing")
        await pilot.press("enter")
        drawer = " ".join(drawer_text(app).split())
        assert "answered 2026-11-27 14:30 CET" in drawer
        assert "Last check failed at 2026-11-29 15:30 CET: Could not reach USCIS" in drawer
        assert "2026-11-27 14:30 CET casewatch noticed · started watching" in drawer  # Madrid
        app.exit()


def test_quiet_tries_back_off_up_to_the_refresh_interval() -> None:
    outage = Outage(since=NOW)
    waits = []
    for _ in range(6):
        waits.append(outage.retry_after_s(15 * 60))
        outage.tries += 1
    assert waits == [60, 120, 240, 480, 900, 900]


def test_ages_need_no_zone() -> None:
    assert [
        format_age(NOW - age, NOW) for age in (timedelta(seconds=30), timedelta(minutes=12))
    ] == [
        "now",
        "12m",
    ]
    assert format_age(TWO_DAYS_AGO, NOW) == "2d" and format_age(None, NOW) == "—"


async def test_the_ages_in_the_checked_column_move_on(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("casewatch.tui.case_table.AGES_EVERY_S", 0.05)
    now = [FROZEN_NOW]
    app = make_app(clock=lambda: now[0])
    async with app.run_test(size=(160, 40)) as pilot:  # wide enough for the Checked column
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        first = next(iter(app.watchlist.cases))
        assert str(table.get_cell(first, "checked")) == "now"
        now[0] += 2 * 3600 + 60  # two hours later, nothing asked meanwhile
        await until(pilot, lambda: str(table.get_cell(first, "checked")) == "2h")
        assert str(table.get_cell(first, "checked")) == "2h"
