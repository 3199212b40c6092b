"""Pilot tests of the edit dialog (``e``): label, client, tags, note and response due
date of a case in one dialog, checked before anything is saved, merged with another
process's edits (issue 14, points 1 and 4)."""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import Input, Static, TextArea

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.listing import describe_change
from casewatch.receipts import parse_receipt_number
from casewatch.refresh import RefreshProgress
from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_table import CaseTable
from casewatch.tui.dialogs import (
    AskScreen,
    CaseDetailsScreen,
    ConfirmScreen,
    split_tags,
    tags_text,
)
from casewatch.tui.refreshing import change_alert, check_result
from casewatch.uscis.errors import QuotaExhausted
from casewatch.watchlist import Watchlist
from pilot_helpers import record_toasts, until

RFE = "EAC9999103411"
"""The demo case at row 5: "Request for Additional Evidence Was Sent" (a response due)."""
APPROVED = "EAC9999103403"
"""The demo case at row 1: approved, waiting for no response."""


def field(app: CaseWatchApp, name: str) -> Input:
    return app.screen.query_one(f"#{name}", Input)


def said(app: CaseWatchApp, name: str) -> str:
    """The text of the line ``#name`` of the dialog shown."""
    return str(app.screen.query_one(f"#{name}", Static).content)


async def test_e_edits_label_client_tags_note_and_the_due_date_in_one_dialog(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        app.watchlist.set_case_details(APPROVED, client="Garcia, Maria")
        await pilot.press(*["down"] * 4, "e")
        assert isinstance(app.screen, CaseDetailsScreen)
        line = said(app, "due-line")
        assert line.startswith("response due ≈ 2022-08-28, overdue by")
        assert not field(app, "due").disabled
        await pilot.press("ctrl+u", *"I-485 AOS", "tab", *"garc", "right")
        assert field(app, "client").value.casefold() == "garcia, maria"  # completed
        await pilot.press("tab", *"JD; premium, gold", "tab", *"Call Maria", "enter", *"first")
        await pilot.press("tab", *"2022-09-01", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, CaseDetailsScreen)
        label = str(app.query_one(CaseTable).get_cell(RFE, "label"))
        assert label.casefold() == "garcia, maria · i-485 aos"  # the client before the label
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
    ("name", "typed", "reason"),
    [
        ("tags", "JD; pre\x07mium", "holds a control or invisible character"),
        ("tags", "JD, " + "x" * 41, "give at most 40"),
        ("due", "28/05/2026", "give the date on the notice as YYYY-MM-DD (2026-05-28)"),
        ("due", "2026-02-30", "give the date on the notice as YYYY-MM-DD"),
    ],
)
async def test_bad_input_keeps_the_dialog_open_with_the_reason_and_saves_nothing(
    make_app: Callable[..., CaseWatchApp], name: str, typed: str, reason: str
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
        assert reason in said(app, "edit-problem")
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
        assert "No response due" in said(app, "due-line")
        await pilot.press("escape", *["down"] * 4)
        app.watchlist.set_response_due(RFE, date(2022, 9, 1))
        await pilot.press("e")
        assert field(app, "due").value == "2022-09-01"
        assert "(from the notice)" in said(app, "due-line")
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


# --- import, export and undo ------------------------------------------------------------


async def test_import_keeps_the_dialog_open_on_a_file_it_cannot_read_with_the_path_typed(
    make_app: Callable[..., CaseWatchApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("i")
        assert isinstance(app.screen, AskScreen)
        hint = said(app, "ask-hint")
        assert hint == f"A relative path is read from {tmp_path}"
        await pilot.press(*"clients.csv", "enter")
        await pilot.pause()
        assert isinstance(app.screen, AskScreen)
        assert field(app, "answer").value == "clients.csv"
        assert (
            said(app, "ask-problem")
            == f"✘ cannot read {tmp_path / 'clients.csv'}: there is no such file"
        )
        (tmp_path / "clients.csv").write_text("EAC1234567891,New client\n")
        toasts = record_toasts(app, monkeypatch)
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, AskScreen)
        assert app.watchlist.get("EAC1234567891").label == "New client"
        await app.workers.wait_for_complete()
    assert toasts[0] == (
        "Import from clients.csv",
        "1 added, 0 updated, 0 skipped, 0 not receipt numbers",
    )


async def test_import_names_the_fields_it_changed_per_case_and_the_columns_it_ignored(
    make_app: Callable[..., CaseWatchApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "firm.csv"
    source.write_text(
        "Receipt,Client,Phone,Tags,Label\n"
        'EAC9999103404,"Garcia, Maria",555-0100,JD; premium,other label\n'
        "EAC9999103405,,555-0101,,\n"
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        toasts = record_toasts(app, monkeypatch)
        await pilot.press("i", *str(source), "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        case = app.watchlist.get("EAC9999103404")
        assert (case.client, case.tags, case.label) == (
            "Garcia, Maria",
            ("JD", "premium"),
            "with history",
        )
    [(title, message)] = toasts
    assert title == "Import from firm.csv"
    assert message.splitlines() == [
        "0 added, 1 updated, 1 skipped, 0 not receipt numbers",
        "column 'Phone' ignored (casewatch reads receipt, label, client, tags and note)",
        "line 2: EAC9999103404: client set to 'Garcia, Maria'; tags set to 'JD; premium'",
        "line 2: EAC9999103404: label 'other label' not set "
        "(casewatch import --update replaces it)",
    ]
    saved = Watchlist.load(app.watchlist.path).get("EAC9999103404")
    assert saved.client == "Garcia, Maria"


async def test_export_asks_before_replacing_a_file_and_writes_it_private(
    make_app: Callable[..., CaseWatchApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "cases.csv"
    target.write_text("kept until the user says yes\n")
    target.chmod(0o644)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        toasts = record_toasts(app, monkeypatch)
        await pilot.press("x")
        assert "The file is private to you (permissions 0600)" in said(app, "ask-hint")
        field(app, "answer").value = "cases.txt"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AskScreen)
        assert "give a name ending in .csv or .json" in said(app, "ask-problem")
        field(app, "answer").value = "cases.csv"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert str(target) in str(app.screen.query_one(".dialog-title", Static).render())
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, AskScreen)  # back, with the name typed
        assert field(app, "answer").value == "cases.csv"
        assert target.read_text() == "kept until the user says yes\n"
        await pilot.press("enter", "y")
        await pilot.pause()
    assert target.read_text().startswith("receipt_number,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert toasts == [("Export", f"50 cases written to {target}, private to you (0600).")]


async def test_u_undoes_edits_and_deletes_the_last_first(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        original = app.watchlist.get(APPROVED)
        await pilot.press("e", "ctrl+u", *"first", "tab", *"Doe", "enter")
        await pilot.press("e", "ctrl+u", *"second", "enter")
        await pilot.press("down", "d", "y")
        await pilot.pause()
        assert table.row_count == 49
        toasts = record_toasts(app, monkeypatch)
        await pilot.press("u")
        await pilot.pause()
        assert table.row_count == 50 and "EAC9999103404" in app.watchlist.cases
        await pilot.press("u")
        assert app.watchlist.get(APPROVED).label == "first"
        assert str(table.get_cell(APPROVED, "label")) == "Doe · first"  # client · label
        await pilot.press("u")
        assert app.watchlist.get(APPROVED) == original
        await pilot.press("u")
        await app.workers.wait_for_complete()
    assert [message for _, message in toasts] == [
        "Put back EAC9999103404 (with history).",
        f"Undid the edit of {APPROVED} (first).",
        f"Undid the edit of {APPROVED} (with history).",
        "Nothing to undo.",
    ]
    saved = Watchlist.load(app.watchlist.path)
    assert (saved.get(APPROVED).label, saved.get(APPROVED).client) == ("with history", "")
    assert len(saved) == 50


# --- r: what a check found ----------------------------------------------------------------


async def test_r_says_no_change_or_the_error_in_a_toast(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    unknown = parse_receipt_number("EAC1234567890")  # the demo sandbox does not know it
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        app.watchlist.add(unknown, label="typo?", added_at=app.watchlist.get(APPROVED).added_at)
        app.dashboard.table.fill()
        toasts = record_toasts(app, monkeypatch)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.press("end", "r")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert toasts[0] == (
        f"Checked {APPROVED} (with history)",
        "No change: Case Was Approved (USCIS: 2023-09-05)",
    )
    title, message = toasts[1]
    assert title == "Checked EAC1234567890 (typo?)"
    assert message.startswith("The check failed: ") and "does not recognize" in message


async def test_r_on_a_case_never_answered_says_its_first_status(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(synthetic=True)
    new = parse_receipt_number("EAC9999200001")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        app.watchlist.add(new, added_at=app.watchlist.get(APPROVED).added_at)
        app.dashboard.table.fill(select=new.value)
        toasts = record_toasts(app, monkeypatch)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        case = app.watchlist.get(new)
    assert case.status is not None
    [(title, message)] = toasts
    assert title == "Checked EAC9999200001"
    assert message == describe_change(case, case.events[-1], US_EASTERN)
    assert case.status.title_en in message


def test_a_change_found_by_r_is_said_by_its_change_alert_alone(tmp_path: Path) -> None:
    watchlist = Watchlist(tmp_path / "w.toml")
    receipt, when = parse_receipt_number(APPROVED), datetime(2026, 11, 29, 9, tzinfo=US_EASTERN)
    watchlist.add(receipt, added_at=when)
    status = CaseStatus(APPROVED, "I-130", "Case Was Received", "Received.")
    watchlist.record_status(receipt, status, when)
    before = watchlist.get(receipt)
    changed = replace(status, title_en="Case Was Approved")
    after, event = watchlist.record_status(receipt, changed, when + timedelta(hours=1))
    assert event is not None and not event.first
    one_change = RefreshProgress(total=1, done=1, changed=1)
    assert check_result(before, after, one_change, US_EASTERN) is None
    assert change_alert(after, event) is not None  # the toast that says it
    stopped = RefreshProgress(total=1, stopped_by=QuotaExhausted("spent"))
    assert check_result(before, before, stopped, US_EASTERN) is None  # "Check stopped" says it
    removed = RefreshProgress(total=1, done=1)
    assert check_result(before, None, removed, US_EASTERN) is None  # removed meanwhile
