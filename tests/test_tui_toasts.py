"""Toasts over the work (issue 13, point 7): in a small pane one line at a time over the
title bar, the others summarized ("+2 more"); in a larger pane a stack kept off the find
box and the selected row; the palette lists the recent notifications."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets._toast import Toast, ToastRack

from casewatch.tui.app import CaseWatchApp
from casewatch.tui.toasts import (
    MAX_STACKED,
    RecentNotifications,
    Sent,
    is_small,
    one_line_toast,
)
from pilot_helpers import screen_text, until


def toasts_on_screen(app: CaseWatchApp) -> list[Toast]:
    """The toasts the user sees (a small pane hides all but the newest)."""
    return [toast for toast in app.screen.query(Toast) if toast.region.area]


def rack(app: CaseWatchApp) -> ToastRack:
    return app.screen.get_child_by_type(ToastRack)


def covered_lines(app: CaseWatchApp) -> set[int]:
    """The screen lines the toasts on screen cover."""
    return {
        line
        for toast in toasts_on_screen(app)
        for line in range(toast.region.y, toast.region.y + toast.region.height)
    }


async def settled(app: CaseWatchApp, pilot: Pilot[None]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert not app.toasts.shown()  # the first refresh of the demo toasts nothing


def test_a_small_pane_is_narrower_than_100_or_shorter_than_30() -> None:
    assert is_small(60, 20) and is_small(99, 40) and is_small(120, 29)
    assert not is_small(100, 30) and not is_small(200, 50)


def test_a_one_line_toast_is_cut_with_an_ellipsis_and_says_how_many_more() -> None:
    sent = Sent(0.0, "warning", "Refresh stopped", "USCIS refused\nthe credentials", 5.0)
    assert one_line_toast(sent, 0, 80) == "Refresh stopped: USCIS refused the credentials"
    line = one_line_toast(sent, 2, 30)
    assert line == "Refresh stopped: US… · +2 more" and len(line) == 30


async def test_in_a_60x20_pane_toasts_are_one_line_one_at_a_time_over_the_title_bar(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(60, 20), notifications=True) as pilot:
        await settled(app, pilot)
        for number in range(3):
            app.notify(
                f"EAC999910340{number} changed to Case Was Approved", title="Changed", timeout=60
            )
        await until(pilot, lambda: len(app.screen.query(Toast)) == 3)
        await pilot.pause()
        (toast,) = toasts_on_screen(app)
        text = str(toast.render())
        assert text.startswith("Changed: EAC9999103402 changed")  # the newest
        assert text.endswith(" · +2 more") and "\n" not in text
        assert covered_lines(app) == {0}  # the title bar, not the table nor the footer
        await pilot.press("slash", *"garcia")  # the find box opens at the bottom
        app.notify("Another change", timeout=60)
        await until(pilot, lambda: len(app.screen.query(Toast)) == 4)
        await pilot.pause()
        find = app.screen.query_one("#find")
        assert covered_lines(app) == {0}
        assert not covered_lines(app) & set(range(find.region.y, find.region.bottom))
        assert "+3 more" in str(toasts_on_screen(app)[0].render())


async def test_in_a_120x40_pane_toasts_stack_above_the_find_box_and_off_the_selected_row(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settled(app, pilot)
        await pilot.press("slash", *"EAC")
        app.notify("A change", title="Changed", timeout=60)
        app.notify("Another change", title="Changed", timeout=60)
        await until(pilot, lambda: len(app.screen.query(Toast)) == 2)
        await pilot.pause()
        find = app.screen.query_one("#find")
        assert find.region.height == 3
        covered = covered_lines(app)
        assert covered and not covered & set(range(find.region.y, find.region.bottom))
        assert max(covered) < find.region.y  # above it
        assert all("\n" in str(toast.render()) for toast in toasts_on_screen(app))  # title
        await pilot.press("enter")  # back to the table; the cursor to the lower half
        table = app.dashboard.table
        table.move_cursor(row=table.row_count - 1)
        await pilot.pause()
        row_y = table.content_region.y + table.header_height + table.cursor_row
        row_y -= round(table.scroll_y)
        assert row_y > 20 and row_y not in covered_lines(app)
        assert rack(app).styles.dock == "top"


async def test_a_burst_of_toasts_in_a_120x40_pane_shows_the_newest_three_and_how_many_more(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settled(app, pilot)
        for number in range(10):  # a refresh finding ten changes
            app.notify(f"Case {number} changed", title="Changed", timeout=60)
        await until(pilot, lambda: len(app.screen.query(Toast)) == 10)
        await pilot.pause()
        shown = toasts_on_screen(app)
        assert len(shown) == MAX_STACKED == 3
        texts = [str(toast.render()) for toast in shown]
        assert any("Case 9 changed" in text for text in texts)  # the newest is among them
        assert any(text.startswith("Changed · +7 more") for text in texts)
        assert not any("Case 0 changed" in text for text in texts)
        assert max(covered_lines(app)) - min(covered_lines(app)) < 15  # not the whole pane


async def test_the_palette_lists_the_recent_notifications_newest_first(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(60, 20), notifications=True) as pilot:
        await settled(app, pilot)
        app.notify("first [not markup]", title="One")
        app.notify("second", title="Two", severity="warning")
        await pilot.pause()
        await pilot.press("ctrl+p", *"Recent notif")
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RecentNotifications))
        listed = screen_text(app)
        assert listed.index("Two: second") < listed.index("One: first [not markup]")
        assert "2026-11-29 09:30 EST" in listed  # when, in the timezone setting
        await pilot.press("escape")
        assert not isinstance(app.screen, RecentNotifications)
