"""Pilot tests of managing the watchlist from the dashboard: add, edit, delete, undo."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_table import CaseTable
from casewatch.tui.dialogs import AddCaseScreen, AskScreen, CaseDetailsScreen, ConfirmScreen
from casewatch.watchlist import Watchlist

NEW = "EAC9999200001"
"""A receipt the synthetic sandbox knows and the demo watchlist does not hold."""


def cell(app: CaseWatchApp, receipt: str, column: str) -> str:
    return str(app.query_one(CaseTable).get_cell(receipt, column))


def check_line(app: CaseWatchApp) -> str:
    return str(app.screen.query_one("#receipt-check", Static).content)


def used(app: CaseWatchApp) -> int:
    assert app.dashboard.client is not None
    return app.dashboard.client.limiter.usage().used


async def test_a_adds_a_case_saves_it_and_checks_it_once(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app(synthetic=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        assert table.border_title == "Cases · 50"
        before = used(app)
        await pilot.press("a")
        assert isinstance(app.screen, AddCaseScreen)
        await pilot.press(*" eac-99-992-00001")
        assert check_line(app).startswith(f"✔ {NEW} · Vermont Service Center")
        assert not app.screen.query_one("#add", Button).disabled
        await pilot.press("tab", *"mine", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, AddCaseScreen)
        assert table.border_title == "Cases · 51"
        assert cell(app, NEW, "label") == "mine"
        assert table.cursor_row == 50
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert used(app) == before + 1
        assert cell(app, NEW, "status") != "…"
        assert cell(app, NEW, "form").startswith(("I-", "N-"))
    saved = Watchlist.load(app.watchlist.path)
    assert len(saved) == 51
    case = saved.get(NEW)
    assert case.label == "mine" and case.status is not None
    assert f"{case.added_at:%Y-%m-%d}" == "2026-11-29"


async def test_a_malformed_receipt_is_explained_and_never_sent(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app(synthetic=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        before = used(app)
        await pilot.press("a", *"EAC99991O3403")
        line = check_line(app)
        assert "the letter O where a zero belongs?" in line
        assert "Expected 3 letters + 10 digits" in line
        assert app.screen.query_one("#add", Button).disabled
        await pilot.press("enter")
        await pilot.click("#add")
        await pilot.pause()
        assert isinstance(app.screen, AddCaseScreen)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, AddCaseScreen)
        assert app.query_one(CaseTable).row_count == 50
        assert used(app) == before
    assert len(Watchlist.load(app.watchlist.path)) == 50


async def test_a_duplicate_points_at_the_row_already_watched(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        before = used(app)
        await pilot.press("a", *"eac9999103403")
        assert check_line(app) == (
            "✘ already watched: EAC9999103403 (with history), added 2026-11-29"
        )
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AddCaseScreen)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        assert app.query_one(CaseTable).row_count == 50
        assert used(app) == before


async def test_e_edits_the_label_and_escape_keeps_it(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("down", "e")
        assert isinstance(app.screen, CaseDetailsScreen)
        label_input = app.screen.query_one("#label", Input)
        assert label_input.value == "with history"
        await pilot.press("x", "escape")
        await pilot.pause()
        assert cell(app, "EAC9999103404", "label") == "with history"
        await pilot.press("e", "ctrl+u", *"Mum's I-130", "enter")
        await pilot.pause()
        assert cell(app, "EAC9999103404", "label") == "Mum's I-130"
        await app.workers.wait_for_complete()
    assert Watchlist.load(app.watchlist.path).get("EAC9999103404").label == "Mum's I-130"


async def test_brackets_in_a_label_and_in_find_are_text_not_markup(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    # A label such as "[/] [red]boss" once crashed the dashboard at every start.
    app = make_app()
    label = "[/] [red]boss [H-1B]"
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("down", "e", "ctrl+u", *label, "enter")
        await app.workers.wait_for_complete()
        assert cell(app, "EAC9999103404", "label") == label
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "[H-1B]" in str(app.screen.query_one(".dialog-title", Static).render())
        await pilot.press("n", "slash", *"[/]", "enter")
        await pilot.pause()
        assert app.query_one(CaseTable).row_count == 1  # the case whose label has "[/]"
    assert Watchlist.load(app.watchlist.path).get("EAC9999103404").label == label
    restarted = make_app()
    async with restarted.run_test(size=(120, 40)):
        await restarted.workers.wait_for_complete()
        assert cell(restarted, "EAC9999103404", "label") == label


async def test_d_deletes_after_confirming_and_u_puts_it_back(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one(CaseTable)
        target = "EAC9999103405"
        original = app.watchlist.get(target)
        assert original.status is not None
        await pilot.press("down", "down", "d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert table.row_count == 50
        await pilot.press("d", "escape")
        await pilot.pause()
        assert table.row_count == 50
        await pilot.press("d", "y")
        await pilot.pause()
        assert table.row_count == 49 and table.border_title == "Cases · 49"
        assert target not in app.watchlist.cases
        await app.workers.wait_for_complete()
        assert target not in Watchlist.load(app.watchlist.path).cases
        await pilot.press("u")
        await pilot.pause()
        assert table.row_count == 50 and table.border_title == "Cases · 50"
        assert list(app.watchlist.cases).index(target) == 2
        assert table.get_row_index(target) == 2 and table.cursor_row == 2
        assert app.watchlist.get(target) == original
        assert cell(app, target, "status") == original.status.title_en
        await app.workers.wait_for_complete()
    saved = Watchlist.load(app.watchlist.path)
    assert list(saved.cases).index(target) == 2
    assert saved.get(target).status == original.status


async def test_enter_confirms_a_delete_and_u_with_nothing_removed_is_harmless(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("u")
        assert app.query_one(CaseTable).row_count == 50
        await pilot.press("d", "enter")
        await pilot.pause()
        assert app.query_one(CaseTable).row_count == 49
        assert "EAC9999103403" not in app.watchlist.cases


async def test_the_add_dialog_fits_a_60x20_pane(make_app: Callable[..., CaseWatchApp]) -> None:
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("a", *"EAC99991O3403")
        await pilot.pause()
        screen = app.screen.region
        for widget in (*app.screen.query(".dialog"), app.screen.query_one("#add", Button)):
            assert screen.contains_region(widget.region), widget
        await pilot.press("escape")


async def test_i_imports_a_file_and_lists_what_was_not_added(
    make_app: Callable[..., CaseWatchApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "clients.csv"
    source.write_text("receipt,label\nEAC9999103403,dup\nEAC1234567891,New client\nnope,bad\n")
    app = make_app()
    toasts: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        monkeypatch.setattr(app, "notify", lambda message, **kw: toasts.append(message))
        await pilot.press("i")
        assert isinstance(app.screen, AskScreen)
        app.screen.query_one("#answer", Input).value = str(source)
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert "EAC1234567891" in app.watchlist.cases
        assert app.query_one(CaseTable).row_count == 51
        assert app.watchlist.get("EAC1234567891").checked_at is not None  # checked at once
    assert toasts and toasts[-1].startswith(
        "1 added, 0 updated, 1 skipped, 1 not receipt numbers\n"
    )
    assert "line 4: 'nope' is not a receipt number" in toasts[-1]
    assert "line 2: EAC9999103403 is already on the watchlist" in toasts[-1]
    assert "label 'dup' not set (casewatch import --update replaces it)" in toasts[-1]
    assert "EAC1234567891" in Watchlist.load(app.watchlist.path).cases


async def test_x_exports_the_table_as_shown(
    make_app: Callable[..., CaseWatchApp], tmp_path: Path
) -> None:
    app = make_app()
    target = tmp_path / "out.json"
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("slash", *"I-751", "enter", "x")
        assert isinstance(app.screen, AskScreen)
        app.screen.query_one("#answer", Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        shown = app.query_one(CaseTable).row_count
    exported = json.loads(target.read_text())
    assert len(exported) == shown < 50
    assert all(case["form_type"] == "I-751" for case in exported)


async def test_x_to_a_folder_that_does_not_exist_names_it_and_creates_nothing(
    make_app: Callable[..., CaseWatchApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    folder = tmp_path / "mistyped"
    toasts: list[tuple[str, str]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        monkeypatch.setattr(
            app, "notify", lambda message, **kw: toasts.append((kw.get("title", ""), message))
        )
        await pilot.press("x")
        app.screen.query_one("#answer", Input).value = str(folder / "cases.csv")
        await pilot.press("enter")
        await pilot.pause()
    [(title, message)] = toasts
    assert title == "Export failed"
    assert f"the folder {folder} does not exist" in message and "Errno" not in message
    assert not folder.exists()
