"""Pilot tests of the edit dialog (``e``): label, client, tags, note and response due
date of a case in one dialog, checked before anything is saved, merged with another
process's edits (issue 14, points 1 and 4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from textual.widgets import Input, Static, TextArea

from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_table import CaseTable
from casewatch.tui.dialogs import CaseDetailsScreen, split_tags, tags_text
from casewatch.watchlist import Watchlist
from pilot_helpers import until

RFE = "EAC9999103411"
"""The demo case at row 5: "Request for Additional Evidence Was Sent" (a response due)."""
APPROVED = "EAC9999103403"
"""The demo case at row 1: approved, waiting for no response."""


def field(app: CaseWatchApp, name: str) -> Input:
    return app.screen.query_one(f"#{name}", Input)


def problem(app: CaseWatchApp) -> str:
    return str(app.screen.query_one("#edit-problem", Static).content)


async def test_e_edits_label_client_tags_note_and_the_due_date_in_one_dialog(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        app.watchlist.set_case_details(APPROVED, client="Garcia, Maria")
        await pilot.press(*["down"] * 4, "e")
        assert isinstance(app.screen, CaseDetailsScreen)
        line = str(app.screen.query_one("#due-line", Static).content)
        assert line.startswith("response due ≈ 2022-08-28, overdue by")
        assert not field(app, "due").disabled
        await pilot.press("ctrl+u", *"I-485 AOS", "tab", *"garc", "right")
        assert field(app, "client").value == "Garcia, Maria"  # completed from the clients
        await pilot.press("tab", *"JD; premium, gold", "tab", *"Call Maria", "enter", *"first")
        await pilot.press("tab", *"2022-09-01", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, CaseDetailsScreen)
        assert str(app.query_one(CaseTable).get_cell(RFE, "label")) == "I-485 AOS"
        await app.workers.wait_for_complete()
    saved = Watchlist.load(app.watchlist.path).get(RFE)
    assert (saved.label, saved.client, saved.tags) == (
        "I-485 AOS",
        "Garcia, Maria",
        ("JD", "premium, gold"),
    )
    assert saved.note == "Call Maria\nfirst"
    assert saved.response_due == date(2022, 9, 1)


@pytest.mark.parametrize(
    ("name", "typed", "said"),
    [
        ("tags", "JD; pre\x07mium", "holds a control or invisible character"),
        ("tags", "JD, " + "x" * 41, "give at most 40"),
        ("due", "28/05/2026", "give the date on the notice as YYYY-MM-DD (2026-05-28)"),
        ("due", "2026-02-30", "give the date on the notice as YYYY-MM-DD"),
    ],
)
async def test_bad_input_keeps_the_dialog_open_with_the_reason_and_saves_nothing(
    make_app: Callable[..., CaseWatchApp], name: str, typed: str, said: str
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        before = app.watchlist.get(RFE)
        await pilot.press(*["down"] * 4, "e", "ctrl+u", *"changed label")
        field(app, name).value = typed
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CaseDetailsScreen)
        assert said in problem(app)
        assert app.watchlist.get(RFE) == before  # nothing half-saved
        field(app, name).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, CaseDetailsScreen)
        assert app.watchlist.get(RFE).label == "changed label"


async def test_a_case_waiting_for_no_answer_has_no_due_field_and_an_emptied_due_is_the_estimate(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("e")
        assert field(app, "due").disabled
        assert "No response due" in str(app.screen.query_one("#due-line", Static).content)
        await pilot.press("escape", *["down"] * 4)
        app.watchlist.set_response_due(RFE, date(2022, 9, 1))
        await pilot.press("e")
        assert field(app, "due").value == "2022-09-01"
        assert "(from the notice)" in str(app.screen.query_one("#due-line", Static).content)
        field(app, "due").value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.watchlist.get(RFE).response_due is None  # back to casewatch's estimate


@pytest.mark.parametrize("taken_in_first", [True, False], ids=["reloaded", "merged-on-save"])
async def test_a_tag_added_here_and_one_in_another_process_are_both_kept(
    make_app: Callable[..., CaseWatchApp], taken_in_first: bool
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        app.watchlist.set_case_details(RFE, tags=("JD", "old"), label="mine")
        app.dashboard.save_soon()
        await app.workers.wait_for_complete()
        await pilot.press(*["down"] * 4, "e")
        assert field(app, "tags").value == "JD; old"
        other = Watchlist.load(app.watchlist.path)  # a second casewatch, in another pane
        other.set_case_details(RFE, tags=(*other.get(RFE).tags, "premium"), label="theirs")
        other.save()
        if taken_in_first:  # the dashboard followed the file while the dialog was open
            await app.watchlist.reload_async()
            assert app.watchlist.get(RFE).tags == ("JD", "old", "premium")
        field(app, "tags").value = "JD; priority"  # one tag added, one removed
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: "premium" in app.watchlist.get(RFE).tags)
        assert set(app.watchlist.get(RFE).tags) == {"JD", "priority", "premium"}
    saved = Watchlist.load(app.watchlist.path).get(RFE)
    assert set(saved.tags) == {"JD", "priority", "premium"}
    assert saved.label == "theirs"  # not changed in the dialog: the other pane's stays


async def test_the_edit_dialog_fits_a_60x20_pane(make_app: Callable[..., CaseWatchApp]) -> None:
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press(*["down"] * 4, "e")
        await pilot.pause()
        screen = app.screen.region
        for widget in (*app.screen.query(".dialog"), app.screen.query_one("#save")):
            assert screen.contains_region(widget.region), widget
        assert app.screen.query_one("#note", TextArea).region.height >= 2
        await pilot.press("escape")


@pytest.mark.parametrize(
    ("tags", "text"),
    [
        ((), ""),
        (("JD", "premium"), "JD; premium"),
        (("Garcia, M",), "Garcia, M;"),
        (("Garcia, M", "JD"), "Garcia, M; JD"),
    ],
)
def test_tags_shown_in_the_dialog_read_back_the_same(tags: tuple[str, ...], text: str) -> None:
    assert tags_text(tags) == text
    assert tuple(tag.strip() for tag in split_tags(text)) == tags


def test_tags_typed_with_commas_or_semicolons() -> None:
    assert split_tags("JD, premium ,") == ["JD", " premium "]
    assert split_tags("a, b; c") == ["a, b", " c"]
    assert split_tags("  ") == []
