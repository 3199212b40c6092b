"""Pilot tests of finding cases in the dashboard (issue 13, points 4, 5, 6, 8, 9; issue
14, point 2): find as a person types, escape one thing at a time, the changed count,
the cases USCIS does not recognize, the palette's stages, sorts and tags, and what
``dashboard.toml`` remembers."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from casewatch.receipts import parse_receipt_number
from casewatch.stages import Stage
from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_table import CaseTable
from casewatch.tui.commands import case_commands
from casewatch.tui.filters import Tagged, Trouble
from casewatch.tui.find import FindBox
from casewatch.tui.refreshing import not_recognized_toast
from casewatch.uscis.errors import ReceiptNotRecognized
from casewatch.watchlist import WatchedCase, Watchlist
from pilot_helpers import drawer_text, record_toasts, until
from test_tui_look import hold_reads, long_file


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


async def test_a_case_uscis_does_not_recognize_says_so_and_has_a_filter(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    toasts = record_toasts(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        await pilot.press("a", *"EAC1234567890", "tab", *"Lopez", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        # The toast says it, with the note that protected cases answer the same.
        warned = [message for title, message in toasts if title == "Not recognized"]
        assert len(warned) == 1 and "EAC1234567890" in warned[0]
        assert "protected by law" in warned[0]
        # The row says it in the stage column, not "…" (loading).
        assert str(table.get_cell("EAC1234567890", "stage")) == "? not recognized"
        assert str(table.get_cell("EAC1234567890", "status")) == ""
        # Its drawer says why there is no status, without "No answer from USCIS yet."
        await pilot.press("enter")
        text = drawer_text(app)
        assert "does not recognize" in text and "No answer from USCIS yet" not in text
        await pilot.press("escape")
        # Find matches the error text.
        await pilot.press("slash", *"not recognized", "enter")
        assert rows(app) == ["EAC1234567890"]
        await pilot.press("escape")
        # The stage cycle ends on the failing cases, before every case again.
        for _ in range(len(Stage) + 1):
            await pilot.press("s")
            if table.stage_filter is Trouble.FAILING:
                break
        assert rows(app) == ["EAC1234567890"]
        assert "not recognized or failing" in str(table.border_title)
        await pilot.press("s")
        assert table.stage_filter is None and len(rows(app)) == 51


def test_the_not_recognized_toast_names_at_most_five_cases() -> None:
    error = str(ReceiptNotRecognized("Case Status Online does not recognize the receipt"))
    added = datetime(2026, 11, 29, tzinfo=UTC)
    cases = [
        WatchedCase(parse_receipt_number(f"EAC12345678{n:02d}"), added, last_error=error)
        for n in range(7)
    ]
    toast = not_recognized_toast([*cases, replace(cases[0], last_error="")])
    assert toast is not None and toast.severity == "warning"
    assert "EAC1234567804 and 2 more" in toast.message and "EAC1234567805" not in toast.message
    assert not_recognized_toast([replace(cases[0], last_error="USCIS is unavailable")]) is None


def with_changes(app: CaseWatchApp, *rows: int) -> list[str]:
    """Mark the cases of the watchlist's ``rows`` as changed and not viewed yet; their
    receipt numbers."""
    receipts = [list(app.watchlist.cases)[row] for row in rows]
    for receipt in receipts:
        app.watchlist.cases[receipt] = replace(app.watchlist.get(receipt), unseen=True)
    return receipts


async def test_the_border_counts_the_changes_and_n_finds_them_outside_the_filter(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    first, second = with_changes(app, 10, 40)
    app.watchlist.set_case_details("EAC9999103403", label="Garcia")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        assert "Cases · 50 · 2 changed · n" in str(table.border_title)
        await pilot.press("slash", *"garcia", "enter")
        assert rows(app) == ["EAC9999103403"]
        assert "2 changed · n" in str(table.border_title)  # counted outside the filter
        toasts = record_toasts(app, monkeypatch)
        await pilot.press("n")
        await pilot.pause()
        assert len(rows(app)) == 50 and not app.query_one(FindBox).is_open
        assert table.selected_receipt == first
        assert toasts == [
            (
                "Filter dropped",
                "The filter hid the 2 changed cases left to view: every case is shown again.",
            )
        ]
        await pilot.press("n")
        assert table.selected_receipt == second
        await pilot.press("enter")  # viewed: one fewer
        assert "1 changed · n" in str(table.border_title)


async def test_the_palette_marks_all_as_viewed_and_the_file_keeps_it(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    first, *_ = with_changes(app, 10, 40, 41)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        assert "3 changed · n" in str(table.border_title)
        await pilot.press("ctrl+p", *"mark all as viewed")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert "changed" not in str(table.border_title)
        assert not str(table.get_cell(first, "receipt")).startswith("●")
    saved = Watchlist.load(app.watchlist.path)
    assert not any(case.unseen for case in saved.cases.values())


async def run_command(pilot: Pilot[None], title: str) -> None:
    """Run the palette's entry ``title`` (typed in full, the first match)."""
    await pilot.press("ctrl+p", *title)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def test_the_palette_offers_each_stage_tag_and_sort_directly(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    receipts = list(app.watchlist.cases)
    app.watchlist.set_case_details(receipts[5], tags=["premium", "JD"])
    app.watchlist.set_case_details(receipts[9], tags=["premium"])
    added = app.watchlist.get(receipts[0]).added_at
    app.watchlist.add(parse_receipt_number("EAC1234567890"), added_at=added)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        await run_command(pilot, "Stage: action needed")
        assert table.stage_filter is Stage.ACTION_NEEDED and rows(app)
        assert all(
            app.watchlist.get(r).status.stage is Stage.ACTION_NEEDED  # type: ignore[union-attr]
            for r in rows(app)
        )
        await run_command(pilot, "Stage: not recognized")
        assert table.stage_filter is Trouble.FAILING and rows(app) == ["EAC1234567890"]
        await run_command(pilot, "Tag: premium")
        assert table.stage_filter == Tagged("premium") and rows(app) == [receipts[5], receipts[9]]
        assert "tag: premium" in str(table.border_title)
        await run_command(pilot, "Stage: all")
        assert table.stage_filter is None and len(rows(app)) == 51
        await run_command(pilot, "Sort by changed")
        assert table.sort_column == "changed" and "sorted by Changed" in str(table.border_title)
        await run_command(pilot, "Sort as the watchlist")
        assert table.sort_column is None and rows(app) == list(app.watchlist.cases)


async def test_sort_filters_and_the_selected_case_are_remembered_across_restarts(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    receipts = list(app.watchlist.cases)
    app.watchlist.set_case_details(receipts[5], tags=["premium"], label="García")
    app.watchlist.set_case_details(receipts[9], tags=["premium"], label="Garcia")
    app.watchlist.set_case_details(receipts[12], tags=["premium"], label="Lopez")
    app.settings.state_dir.mkdir(parents=True, exist_ok=True)
    (app.settings.state_dir / "dashboard.toml").write_text('theme = "casewatch-light"\n')
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await run_command(pilot, "Tag: premium")
        await run_command(pilot, "Sort by label")
        await pilot.press("slash", *"garcia", "enter", "down")
        assert rows(app) == [receipts[9], receipts[5]]
        assert app.query_one(CaseTable).selected_receipt == receipts[5]
        await pilot.press("q")
    state = tomllib.loads((app.settings.state_dir / "dashboard.toml").read_text())
    assert state["theme"] == "casewatch-light"  # the theme is kept beside the view
    restarted = make_app()
    async with restarted.run_test(size=(120, 40)) as pilot:
        await restarted.workers.wait_for_complete()
        table = restarted.query_one(CaseTable)
        assert table.stage_filter == Tagged("premium") and table.sort_column == "label"
        assert table.text_filter == "garcia" and restarted.query_one(FindBox).value == "garcia"
        assert rows(restarted) == [receipts[9], receipts[5]]
        assert table.selected_receipt == receipts[5]
        await pilot.press("escape", "escape")  # the find text, then the tag filter
        assert len(rows(restarted)) == 50 and table.selected_receipt == receipts[5]
        assert restarted.theme == "casewatch-light"


@pytest.mark.parametrize(
    "content",
    [
        "not toml [[[",
        'sort = 5\nfilter = ["stage:approved"]\nfind = 7\nselected = true',
        'sort = "nonsense"\nfilter = "stage:nonsense"\nselected = "EAC0000000000"',
        'filter = "tag:gone"\nfind = "   "',
    ],
)
async def test_bad_or_stale_remembered_views_are_ignored(
    make_app: Callable[..., CaseWatchApp], content: str
) -> None:
    app = make_app()
    app.settings.state_dir.mkdir(parents=True, exist_ok=True)
    (app.settings.state_dir / "dashboard.toml").write_text(content)
    async with app.run_test(size=(120, 40)):
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        assert table.sort_column is None and table.stage_filter is None
        assert table.text_filter == "" and not app.query_one(FindBox).is_open
        assert len(rows(app)) == 50 and table.cursor_row == 0


async def test_the_palette_offers_stages_and_sorts_once_every_case_is_read(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(synthetic=True)
    long_file(app, 300)
    held_reads = hold_reads(monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        titles = {command.title for command in case_commands(app.dashboard, app.keymap)}
        assert "Mark all as viewed" in titles and "Stage: all" not in titles
        assert "Sort by changed, newest first" not in titles  # as s and o, they wait
        held_reads.set()
        await until(pilot, lambda: not app.watchlist.unread)
        titles = {command.title for command in case_commands(app.dashboard, app.keymap)}
        assert {"Stage: all", "Stage: received", "Sort by changed, newest first"} <= titles


async def test_the_sort_way_and_the_grouping_by_client_are_remembered_too(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await run_command(pilot, "Sort by changed, newest first")
        await pilot.press("c", "q")
    restarted = make_app()
    async with restarted.run_test(size=(120, 40)) as pilot:
        await restarted.workers.wait_for_complete()
        table = restarted.query_one(CaseTable)
        assert (table.sort_column, table.sort_descending, table.grouped) == ("changed", True, True)
        assert "by client · sorted by Changed ↓ newest first" in str(table.border_title)


async def test_keys_typed_in_a_burst_right_after_slash_are_the_find_text(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    # The new-user trial: "/c" in one burst grouped the table by client, "/q" quit.
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        for key, character in (("slash", "/"), ("c", "c"), ("q", "q")):
            app.post_message(events.Key(key, character))  # none handled before the next
        await pilot.pause()
        assert app.is_running and app.query_one("#find", Input).value == "cq"
        assert not app.query_one(CaseTable).grouped
        await pilot.press("enter", "c")  # typed once the box is closed: a key again
        assert app.query_one(CaseTable).grouped
