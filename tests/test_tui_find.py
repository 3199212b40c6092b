"""Pilot tests of finding cases in the dashboard (issue 13, points 4, 5, 6, 8, 9; issue
14, point 2): find as a person types, escape one thing at a time, the changed count,
the cases USCIS does not recognize, the palette's stages, sorts and tags, and what
``dashboard.toml`` remembers."""

from __future__ import annotations

from collections.abc import Callable

from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_table import CaseTable
from casewatch.tui.find import FindBox


def rows(app: CaseWatchApp) -> list[str]:
    return [str(key.value) for key in app.query_one(CaseTable).rows]


async def test_find_matches_words_accents_separators_client_tags_and_note(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    watchlist = app.watchlist
    watchlist.set_case_details("EAC9999103403", label="Garcia, Maria (I-485 AOS)")
    watchlist.set_case_details("EAC9999103404", label="Garcia, Maria (I-765 EAD)")
    watchlist.set_case_details("EAC9999103405", client="Familia Núñez", tags=["Zeta-Team"])
    watchlist.set_case_details("EAC9999103406", note="Call her sister first")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        await pilot.press("slash", *"garcía i485", "enter")
        assert rows(app) == ["EAC9999103403"]
        assert table.border_title is not None and "Cases · 1 of 50" in str(table.border_title)
        for query, found in (
            ("maria garcia", ["EAC9999103403", "EAC9999103404"]),
            ("nunez", ["EAC9999103405"]),
            ("ZETATEAM", ["EAC9999103405"]),
            ("sister", ["EAC9999103406"]),
            ("eac-9999-103404", ["EAC9999103404"]),
        ):
            await pilot.press("slash", "ctrl+u", *query, "enter")
            assert rows(app) == found, query


async def test_escape_closes_one_thing_at_a_time_and_keeps_the_selected_case(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    app.watchlist.set_case_details("EAC9999103420", label="Garcia, Maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table, drawer, find_box = (
            app.query_one(CaseTable),
            app.dashboard.drawer,
            app.query_one(FindBox),
        )
        await pilot.press("slash", *"garcia", "enter", "enter")  # found, then its drawer
        assert rows(app) == ["EAC9999103420"] and drawer.is_open
        await pilot.press("escape")  # the drawer only
        assert not drawer.is_open and rows(app) == ["EAC9999103420"] and find_box.is_open
        await pilot.press("escape")  # then the filter, the cursor kept on the case
        await pilot.pause()
        assert len(rows(app)) == 50 and not find_box.is_open
        assert table.selected_receipt == "EAC9999103420" and table.cursor_row > 0
        await pilot.press("s")  # a stage filter: the next escape clears it
        selected = table.selected_receipt
        assert len(rows(app)) < 50
        await pilot.press("escape")
        assert len(rows(app)) == 50 and table.selected_receipt == selected
        assert table.has_focus


async def test_escape_in_the_find_box_closes_it_and_leaves_the_drawer_open(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("down", "down", "enter", "slash", *"approved")
        find_box = app.query_one(FindBox)
        assert find_box.has_focus and len(rows(app)) < 50
        await pilot.press("escape")  # the box being typed in, cleared
        await pilot.pause()
        assert not find_box.is_open and len(rows(app)) == 50
        assert app.dashboard.drawer.is_open and app.query_one(CaseTable).has_focus
        await pilot.press("escape")
        assert not app.dashboard.drawer.is_open
