"""Pilot tests of the dashboard, on the built-in sandbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from casewatch.config import load_settings
from casewatch.receipts import parse_receipt_number
from casewatch.stages import Stage
from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_table import CaseTable
from casewatch.tui.drawer import HistoryDrawer
from casewatch.tui.status_bar import QuotaGauge
from casewatch.watchlist import Watchlist, open_watchlist
from pilot_helpers import drawer_text, record_toasts


def cell(app: CaseWatchApp, receipt: str, column: str) -> str:
    return str(app.query_one(CaseTable).get_cell(receipt, column))


async def test_the_demo_fills_all_50_rows_from_the_default_sandbox() -> None:
    settings = load_settings()
    app = CaseWatchApp(settings, open_watchlist(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(CaseTable)
        assert table.row_count == 50
        assert table.border_title == "Cases · 50"
        await app.workers.wait_for_complete()
        await pilot.pause()
        for receipt in app.watchlist.cases:
            assert cell(app, receipt, "status") != "…", receipt
            assert cell(app, receipt, "form").startswith(("I-", "N-")), receipt
        assert cell(app, "EAC9999103403", "status") == "Case Was Approved"
        assert "approved" in cell(app, "EAC9999103403", "stage")
        # A spike arrest retried under a busy event loop costs one more request.
        used = app.dashboard.client.limiter.usage().used if app.dashboard.client else 0
        assert used >= 50
        figures = str(app.query_one("#quota-figures").render())
        assert f"{used} / 150,000 today" in figures
    saved = Watchlist.load(settings.watchlist_path)
    assert len(saved) == 50
    assert all(case.status is not None for case in saved.cases.values())


async def test_enter_opens_the_drawer_and_escape_closes_it(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        drawer = app.query_one(HistoryDrawer)
        assert not drawer.has_class("-open")
        await pilot.press("enter")
        assert drawer.has_class("-open")
        body = drawer_text(app)
        assert "EAC9999103403" in body
        assert "Timeline, newest first" in body
        await pilot.press("down")
        assert "EAC9999103404" in drawer_text(app)
        await pilot.press("escape")
        assert not drawer.has_class("-open")
        await pilot.press("enter", "enter")
        assert not drawer.has_class("-open")


async def test_r_refreshes_again_and_the_gauge_counts(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        assert app.dashboard.client is not None
        assert app.dashboard.client.limiter.usage().used == 50
        await pilot.press("R")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.dashboard.client.limiter.usage().used == 100
        assert "100 / 150,000 today" in str(
            app.query_one(QuotaGauge).query_one("#quota-figures").render()
        )


async def test_during_a_refresh_r_checks_the_case_and_capital_r_starts_no_second_pass(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    toasts: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        monkeypatch.setattr(app, "notify", lambda message, **kw: toasts.append(message))
        assert app.dashboard.refresher is not None and app.dashboard.refresher.running
        await pilot.press("R")
        assert toasts == ["A refresh is already running."]
        await pilot.press("r")  # one case: checked at once, the pass goes on
        await app.workers.wait_for_complete()
        assert toasts[0] == "A refresh is already running."
        [found] = toasts[1:]  # what r found: no change, or the first status if first
        assert "Case Was Approved" in found
        assert app.dashboard.client is not None and app.dashboard.client.limiter.usage().used == 51


def with_an_unknown_case(make_app: Callable[..., CaseWatchApp]) -> tuple[CaseWatchApp, str]:
    """A dashboard whose watchlist also holds a receipt USCIS does not recognize."""
    app = make_app()
    unknown = parse_receipt_number("EAC1234567890")
    app.watchlist.add(unknown, added_at=app.watchlist.get("EAC9999103403").added_at)
    return app, unknown.value


async def test_a_case_uscis_does_not_know_is_marked_with_its_error(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app, unknown = with_an_unknown_case(make_app)
    async with app.run_test(size=(160, 40)) as pilot:  # wide enough for the Checked column
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "⚠" in cell(app, unknown, "checked")
        assert "does not recognize" in app.watchlist.get(unknown).last_error
        assert "⚠" not in cell(app, "EAC9999103403", "checked")
        app.query_one(CaseTable).move_cursor(row=50)
        await pilot.press("enter")
        text = drawer_text(app)
        assert "Last check failed" in text
        assert "No answer from USCIS yet" not in text  # the failure says why


async def test_in_a_narrow_pane_a_failed_check_is_marked_before_the_receipt(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app, unknown = with_an_unknown_case(make_app)
    async with app.run_test(size=(60, 20)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "checked" not in app.query_one(CaseTable).shown_columns
        assert cell(app, unknown, "receipt").startswith("⚠ ")
        assert cell(app, "EAC9999103403", "receipt").startswith("  ")
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        assert "⚠" in cell(app, unknown, "checked")
        assert cell(app, unknown, "receipt").startswith("  ")  # said once is enough


async def test_a_spent_quota_pauses_the_refresh_with_a_toast(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(daily_quota=20)
    toasts: list[tuple[str, str]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        monkeypatch.setattr(
            app, "notify", lambda message, **kw: toasts.append((kw.get("title", ""), message))
        )
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert toasts and toasts[-1][0] == "Refresh paused"
        assert "quota" in toasts[-1][1].lower()
        figures = str(app.query_one(QuotaGauge).query_one("#quota-figures").render())
        assert "auto-refresh paused until 00:00 EST" in figures
        filled = [r for r in app.watchlist.cases if cell(app, r, "status") != "…"]
        assert len(filled) == 20


async def test_q_quits_cleanly(make_app: Callable[..., CaseWatchApp], tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("q")
    assert app.return_code == 0
    assert len(Watchlist.load(tmp_path / "watchlist-demo.toml")) == 50


async def test_an_empty_watchlist_says_how_to_add_cases(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    app.watchlist.cases.clear()
    toasts: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **kw: toasts.append(message))
    async with app.run_test(size=(80, 24)):
        await app.workers.wait_for_complete()
        assert app.query_one(CaseTable).border_title == "Cases · 0"
    assert any("[[case]]" in toast and str(app.watchlist.path) in toast for toast in toasts)


async def test_a_change_alerts_once_marks_the_row_until_viewed(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    toasts: list[tuple[str, str]] = []
    bells: list[None] = []
    monkeypatch.setattr(
        app, "notify", lambda message, **kw: toasts.append((kw.get("title", ""), message))
    )
    monkeypatch.setattr(app, "bell", lambda: bells.append(None))
    target = "EAC9999103405"
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        assert toasts == [] and bells == []  # first statuses are recorded, not alerted
        # USCIS's answer differs from what the watchlist last saw: a change.
        case = app.watchlist.get(target)
        assert case.status is not None
        app.watchlist.cases[target] = replace(
            case, status=replace(case.status, title_en="Case Was Received")
        )
        await pilot.press("R")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(bells) == 1
        assert toasts == [
            (
                f"{target} (with history) changed",
                "Case Was Received → "
                + (
                    app.watchlist.get(target).status.title_en  # type: ignore[union-attr]
                ),
            )
        ]
        assert cell(app, target, "receipt").startswith("●")
        await pilot.press("n")
        assert app.query_one(CaseTable).cursor_row == 2
        await pilot.press("enter")
        assert not cell(app, target, "receipt").startswith("●")
        await pilot.press("r")
        await app.workers.wait_for_complete()
        assert len(bells) == 1  # the same change is never alerted twice
    await app.workers.wait_for_complete()
    saved = Watchlist.load(app.watchlist.path).get(target)
    assert not saved.unseen
    assert [event.first for event in saved.events] == [True, False]


async def test_the_drawer_shows_one_timeline_and_l_switches_to_spanish(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("enter")
        text = " ".join(drawer_text(app).split())  # lines wrap in 80 columns
        assert "Timeline, newest first" in text
        assert "casewatch noticed · started watching: Case Was Approved" in text
        assert "USCIS" in text and "We approved your Form I-130" in text
        await pilot.press("l")
        text = " ".join(drawer_text(app).split())  # lines wrap in 80 columns
        assert "Caso Fue Aprobado" in text
        assert "Aprobamos su Formulario I-130" in text
        assert "Historial, lo más reciente primero" in text
        assert "casewatch notó · empezó a seguir el caso: Caso Fue Aprobado" in text
        assert "Case Was Approved" not in text and "Timeline" not in text
        await pilot.press("l")
        assert "Case Was Approved" in drawer_text(app)


def test_the_timeline_puts_uscis_history_and_seen_changes_newest_first() -> None:
    from datetime import date

    from casewatch.cases import US_EASTERN, CaseStatus, HistoryEntry
    from casewatch.tui.drawer import timeline

    watchlist = Watchlist(Path("unused.toml"))
    receipt = parse_receipt_number("EAC9999103403")
    watchlist.add(receipt, added_at=datetime(2026, 11, 1, tzinfo=US_EASTERN))
    old = CaseStatus(
        receipt.value,
        "I-130",
        "Case Was Received",
        "",
        history=(HistoryEntry(date(2026, 10, 1), "2026-10-01", "Received"),),
    )
    new = CaseStatus(
        receipt.value,
        "I-130",
        "Case Was Approved",
        "",
        modified=datetime(2026, 11, 20, 9, 0, tzinfo=US_EASTERN),
        history=(
            HistoryEntry(date(2026, 11, 20), "2026-11-20", "Approved"),
            HistoryEntry(date(2026, 10, 1), "2026-10-01", "Received"),
        ),
    )
    watchlist.record_status(receipt, old, datetime(2026, 11, 2, 8, 0, tzinfo=US_EASTERN))
    watchlist.record_status(receipt, new, datetime(2026, 11, 21, 8, 0, tzinfo=US_EASTERN))
    rows = timeline(watchlist.get(receipt), zone=US_EASTERN)
    noticed = "casewatch noticed"
    assert [source for _, source, _ in rows] == [noticed, "USCIS", noticed, "USCIS"]
    assert "Case Was Received → Case Was Approved (USCIS date: 2026-11-20)" in rows[0][2]
    assert rows[1][2] == "Approved" and rows[3][2] == "Received"


async def test_r_checks_only_the_selected_case(make_app: Callable[..., CaseWatchApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        assert app.dashboard.client is not None
        await pilot.press("down", "r")
        await app.workers.wait_for_complete()
        assert app.dashboard.client.limiter.usage().used == 51


async def test_automatic_refreshes_ask_only_for_due_cases(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)):
        await app.workers.wait_for_complete()
        assert app.dashboard.client is not None
        app.dashboard.refreshes.start(automatic=True)  # at the same (frozen) moment: nothing is due
        await app.workers.wait_for_complete()
        assert app.dashboard.client.limiter.usage().used == 50


async def test_more_cases_than_the_quota_allows_is_said_at_start(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    app.settings = replace(
        app.settings, environment=replace(app.settings.environment, daily_quota=500)
    )
    toasts: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **kw: toasts.append(kw.get("title", "")))
    async with app.run_test(size=(120, 40)):
        await app.workers.wait_for_complete()
    assert "More cases than the daily quota" in toasts


async def test_find_filters_by_any_text_and_escape_clears_it(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        await pilot.press("slash", *"approved", "enter")
        shown = [str(key.value) for key in table.rows]
        assert shown and len(shown) < 50
        assert all(
            "approv" in (app.watchlist.get(r).status.title_en.lower() + " approved")  # type: ignore[union-attr]
            for r in shown
        )
        assert table.border_title is not None and "of 50" in table.border_title
        assert (
            app.dashboard.client is not None and app.dashboard.client.limiter.usage().used == 50
        )  # typing 'a'/'r' ran nothing
        await pilot.press("escape")
        assert table.row_count == 50


async def test_the_stage_filter_and_the_sort_order_cycle(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        await pilot.press("s")
        stages = {app.watchlist.get(str(key.value)).status.stage for key in table.rows}  # type: ignore[union-attr]
        assert len(stages) == 1 and table.row_count < 50
        assert table.border_title is not None and "stage:" in table.border_title
        for _ in range(len(Stage)):
            await pilot.press("s")
            if table.row_count == 50:
                break
        assert table.row_count == 50
        await pilot.press("o")  # sort by receipt
        keys = [str(key.value) for key in table.rows]
        assert keys == sorted(keys)
        for _ in range(4):  # label, form, status, stage
            await pilot.press("o")
        order = [
            app.watchlist.get(str(key.value)).status.stage  # type: ignore[union-attr]
            for key in table.rows
        ]
        assert order == sorted(order, key=list(Stage).index)


async def test_a_refresh_shows_its_progress_bar_until_it_ends(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import ProgressBar

    from casewatch.tui.status_bar import TitleBar

    app = make_app()
    seen_running: list[bool] = []
    show = TitleBar.watch_pass_progress

    def spy(title_bar: TitleBar, progress: tuple[int, int] | None) -> None:
        show(title_bar, progress)
        seen_running.append(title_bar.query_one(ProgressBar).has_class("-running"))

    monkeypatch.setattr(TitleBar, "watch_pass_progress", spy)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        bar = app.query_one("#refresh-bar", ProgressBar)
        assert not bar.has_class("-running")
        assert bar.progress == 50 and bar.total == 50
    assert True in seen_running and not seen_running[-1]  # shown, then hidden at the end


def test_days_are_whole_us_eastern_calendar_days() -> None:

    from casewatch.cases import US_EASTERN
    from casewatch.tui.formats import format_days

    now = datetime(2026, 11, 29, 0, 30, tzinfo=US_EASTERN)
    assert format_days(datetime(2026, 11, 28, 23, 59, tzinfo=US_EASTERN), now) == "1d"
    assert format_days(datetime(2023, 9, 5, 14, 28, tzinfo=US_EASTERN), now) == "1181d"
    assert format_days(None, now) == "—"


async def test_refused_credentials_stay_said_in_the_gauge(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app(client_secret="not-the-demo-secret")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        figures = str(app.query_one(QuotaGauge).query_one("#quota-figures").render())
        assert "refreshing stopped: USCIS refused the credentials" in figures


async def test_a_worker_that_fails_says_what_failed(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    toasts = record_toasts(app, monkeypatch)

    async def broken() -> None:
        raise RuntimeError("the disk is on fire")

    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        with monkeypatch.context() as failing:
            failing.setattr(app.watchlist, "save_async", broken)
            await pilot.press("down", "e", "ctrl+u", *"one", "enter")  # saved in a worker
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert ("Save failed", "the disk is on fire") in toasts
        assert not any(title == "Refresh failed" for title, _ in toasts)
