"""The case table on its own, on a watchlist of four cases: the filters and the sort
order as reactives (rows and count title follow), the selection kept through a refill,
the next changed case, a removed case, the columns fitted to the width."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets.data_table import ColumnKey, DuplicateKey

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.receipts import parse_receipt_number
from casewatch.stages import Stage
from casewatch.tui import case_table
from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_cells import TABLE_FRAME
from casewatch.tui.case_table import CaseTable
from casewatch.watchlist import Watchlist
from conftest import FROZEN_NOW

NOW = datetime.fromtimestamp(FROZEN_NOW, US_EASTERN)
CASES = {
    "EAC9999103403": ("I-130", "Case Was Approved", "Mum"),
    "EAC9999103404": ("I-485", "Case Was Received", "Dad"),
    "EAC9999103405": ("I-765", "Case Was Approved", "work permit"),
    "EAC9999103406": ("N-400", "Interview Was Scheduled", ""),
}


def four_cases(tmp_path: Path) -> Watchlist:
    watchlist = Watchlist(tmp_path / "watchlist.toml")
    for receipt, (form, title, label) in CASES.items():
        number = parse_receipt_number(receipt)
        watchlist.add(number, label=label, added_at=NOW)
        watchlist.record_status(number, CaseStatus(receipt, form, title, f"{title}."), NOW)
    return watchlist


class TableOnly(App[None]):
    def __init__(
        self, watchlist: Watchlist, clock: Callable[[], float] = lambda: FROZEN_NOW
    ) -> None:
        super().__init__()
        self.watchlist = watchlist
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield CaseTable(self.watchlist, self.clock)

    def on_mount(self) -> None:
        self.query_one(CaseTable).fill()


def rows(table: CaseTable) -> list[str]:
    """The row keys in the order the table shows them."""
    return [str(row.key.value) for row in table.ordered_rows]


async def test_filters_and_sort_order_are_reactives_the_rows_and_title_follow(
    tmp_path: Path,
) -> None:
    app = TableOnly(four_cases(tmp_path))
    async with app.run_test(size=(120, 12)):
        table = app.query_one(CaseTable)
        assert rows(table) == list(CASES) and str(table.border_title) == "Cases · 4"
        table.text_filter = "approved"
        assert rows(table) == ["EAC9999103403", "EAC9999103405"]
        assert str(table.border_title) == "Cases · 2 of 4 · /approved"
        table.text_filter = ""
        table.cycle_stage_filter()  # the first stage on the watchlist, in a case's life
        assert table.stage_filter is Stage.RECEIVED and rows(table) == ["EAC9999103404"]
        table.stage_filter = None
        table.sort_column = "label"
        assert rows(table) == ["EAC9999103406", "EAC9999103404", "EAC9999103403", "EAC9999103405"]
        assert str(table.border_title) == "Cases · 4 · sorted by Client · label ↑ A to Z"
        assert [case.label for case in table.visible_cases()] == ["", "Dad", "Mum", "work permit"]


async def test_a_refill_keeps_the_selected_case_and_next_changed_wraps_around(
    tmp_path: Path,
) -> None:
    watchlist = four_cases(tmp_path)
    app = TableOnly(watchlist)
    async with app.run_test(size=(120, 12)):
        table = app.query_one(CaseTable)
        assert not table.next_changed()  # nothing changed: the cursor stays
        assert table.selected_receipt == "EAC9999103403"
        table.move_cursor(row=2)
        table.sort_column = "form"
        assert table.selected_receipt == "EAC9999103405"
        changed = replace(watchlist.get("EAC9999103404"), unseen=True)
        watchlist.cases["EAC9999103404"] = changed
        table.update_case(changed)
        assert str(table.get_cell("EAC9999103404", "receipt")).startswith("● ")
        assert table.next_changed() and table.selected_receipt == "EAC9999103404"
        assert table.next_changed() and table.selected_receipt == "EAC9999103404"  # wraps


async def test_a_removed_case_leaves_the_table_and_its_count(tmp_path: Path) -> None:
    watchlist = four_cases(tmp_path)
    app = TableOnly(watchlist)
    async with app.run_test(size=(120, 12)):
        table = app.query_one(CaseTable)
        watchlist.remove("EAC9999103404")
        table.remove_case("EAC9999103404")
        assert "EAC9999103404" not in rows(table) and str(table.border_title) == "Cases · 3"


async def test_the_columns_fit_the_width_and_the_receipt_marks_a_failed_check(
    tmp_path: Path,
) -> None:
    watchlist = four_cases(tmp_path)
    watchlist.cases["EAC9999103406"] = replace(
        watchlist.get("EAC9999103406"), last_error="Could not reach USCIS"
    )
    app = TableOnly(watchlist)
    async with app.run_test(size=(160, 12)) as pilot:
        table = app.query_one(CaseTable)
        assert len(table.shown_columns) == 9
        assert str(table.get_cell("EAC9999103406", "checked")).startswith("⚠")
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert table.shown_columns == ("receipt", "stage")
        assert str(table.get_cell("EAC9999103406", "receipt")).startswith("⚠ ")
        assert rows(table) == list(CASES)


GARCIAS = {
    "EAC9999103403": ("Garcia, Maria (I-485 AOS)", ""),
    "EAC9999103404": ("Garcia, Maria (I-765 EAD)", ""),
    "EAC9999103405": ("Garcia, Maria (I-131 AP)", ""),
    "EAC9999103406": ("I-130 for her husband", "Garcia, Maria"),
}


def garcias(tmp_path: Path) -> Watchlist:
    """Four receipts of one client, three labelled with her name, one with her as client."""
    watchlist = four_cases(tmp_path)
    for receipt, (label, client) in GARCIAS.items():
        watchlist.set_case_details(receipt, label=label, client=client)
    return watchlist


def table_lines(table: CaseTable) -> list[str]:
    """The table's lines as the screen shows them (heading first)."""
    return [table.render_line(y).text for y in range(1 + table.row_count)]


async def test_the_label_and_status_share_the_pane_and_cut_text_ends_with_an_ellipsis(
    tmp_path: Path,
) -> None:
    app = TableOnly(garcias(tmp_path))
    async with app.run_test(size=(200, 12)) as pilot:
        table = app.query_one(CaseTable)
        lines = table_lines(table)
        assert "Client · label" in lines[0]
        assert "Garcia, Maria (I-485 AOS)" in lines[1]
        assert "Garcia, Maria · I-130 for her husband" in lines[4]
        assert lines[0].rstrip().endswith("Checked")  # the status took the rest
        assert table.virtual_size.width == 200 - TABLE_FRAME  # the dashboard's border, scrollbar
        table.move_cursor(row=2)
        await pilot.resize_terminal(160, 12)  # the same columns: only two widths change
        await pilot.pause()
        assert table.columns[ColumnKey("label")].width == 31 and table.cursor_row == 2
        assert "Garcia, Maria (I-485 AOS)" in table_lines(table)[1]
        await pilot.resize_terminal(80, 12)
        await pilot.pause()
        lines = table_lines(table)
        assert table.shown_columns == ("receipt", "label", "stage")
        labels = [line[18:57].strip() for line in lines[1:]]
        assert labels == [
            "Garcia, Maria (I-485 AOS)",
            "Garcia, Maria (I-765 EAD)",
            "Garcia, Maria (I-131 AP)",
            "Garcia, Maria · I-130 for her husband",
        ]
        await pilot.resize_terminal(60, 12)
        await pilot.pause()
        labels = [table_lines(table)[row][18:37].strip() for row in (1, 2, 4)]
        assert labels == ["Garcia, Maria (I-…", "Garcia, Maria (I-…", "Garcia, Maria · I…"]


RFE = "Request for Evidence Was Sent"


async def test_the_due_column_shows_the_response_due_estimated_given_or_overdue(
    tmp_path: Path,
) -> None:
    watchlist = four_cases(tmp_path)
    sent = "On {}, we sent you a request for evidence."
    for receipt, day in (("EAC9999103403", "March 5, 2026"), ("EAC9999103404", "October 1, 2026")):
        status = CaseStatus(receipt, "I-485", RFE, sent.format(day))
        watchlist.record_status(parse_receipt_number(receipt), status, NOW)
    watchlist.set_response_due("EAC9999103404", date(2026, 12, 20))
    app = TableOnly(watchlist)
    async with app.run_test(size=(200, 12)) as pilot:
        table = app.query_one(CaseTable)
        overdue = table.get_cell("EAC9999103403", "due")
        assert isinstance(overdue, Text)  # March 5 + 87 days, past on 2026-11-29:
        assert overdue.markup == "[bold red]≈ 2026-05-31[/bold red]"
        given = table.get_cell("EAC9999103404", "due")
        assert isinstance(given, Text) and given.markup == "2026-12-20"
        assert str(table.get_cell("EAC9999103405", "due")) == ""  # approved: nothing asked
        assert "Due" in table_lines(table)[0]
        table.sort_column = "due"
        assert rows(table)[:2] == ["EAC9999103403", "EAC9999103404"]  # soonest first
        await pilot.resize_terminal(120, 12)  # not where there is no room
        await pilot.pause()
        assert "due" not in table.shown_columns


async def test_the_due_column_turns_red_on_the_day_the_deadline_passes(tmp_path: Path) -> None:
    watchlist = four_cases(tmp_path)
    receipt = "EAC9999103403"
    status = CaseStatus(receipt, "I-485", RFE, "Request for evidence.")
    watchlist.record_status(parse_receipt_number(receipt), status, NOW)
    watchlist.set_response_due(receipt, NOW.date())  # due today: not overdue yet
    clock = [FROZEN_NOW]
    app = TableOnly(watchlist, clock=lambda: clock[0])
    async with app.run_test(size=(200, 12)):
        table = app.query_one(CaseTable)
        assert due_markup(table, receipt) == str(NOW.date())
        clock[0] += 3600  # the same day: nothing to do
        table.age_checked_cells()
        assert due_markup(table, receipt) == str(NOW.date())
        clock[0] += 86400
        table.age_checked_cells()
        assert due_markup(table, receipt) == f"[bold red]{NOW.date()}[/bold red]"


def due_markup(table: CaseTable, receipt: str) -> str:
    cell = table.get_cell(receipt, "due")
    assert isinstance(cell, Text)
    return cell.markup


def changed_on(
    watchlist: Watchlist, receipt: str, day: int, title: str = "Case Was Approved"
) -> None:
    """USCIS answers for ``receipt``: ``title``, last changed on 2026-11-``day``."""
    modified = datetime(2026, 11, day, 12, tzinfo=US_EASTERN)
    status = CaseStatus(receipt, "I-130", title, f"{title}.", modified=modified)
    watchlist.record_status(parse_receipt_number(receipt), status, NOW)


async def test_a_sorted_table_stays_sorted_as_cases_change_and_o_again_reverses_it(
    tmp_path: Path,
) -> None:
    watchlist = four_cases(tmp_path)
    for day, receipt in enumerate(CASES, start=1):  # changed on the 1st, 2nd, 3rd, 4th
        changed_on(watchlist, receipt, day)
    app = TableOnly(watchlist)
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(CaseTable)
        table.choose_sort("changed")
        assert rows(table) == list(CASES)
        assert (
            str(table.border_title)
            == "Cases · 4 · 2 changed · n · sorted by Changed ↑ oldest first"
        )
        table.move_cursor(row=2)  # on ...405
        changed_on(watchlist, "EAC9999103403", 20)  # the oldest change is now the newest
        table.update_case(watchlist.get("EAC9999103403"))
        expected = ["EAC9999103404", "EAC9999103405", "EAC9999103406", "EAC9999103403"]
        assert rows(table) == expected
        assert table.selected_receipt == "EAC9999103405"  # the cursor kept its case
        await pilot.pause()
        assert [line[1:18].strip(" ●") for line in table_lines(table)[1:]] == expected
        table.choose_sort("changed")  # the same column again: the other way
        assert rows(table) == expected[::-1] and table.selected_receipt == "EAC9999103405"
        assert (
            str(table.border_title)
            == "Cases · 4 · 2 changed · n · sorted by Changed ↓ newest first"
        )
        changed_on(watchlist, "EAC9999103406", 25)
        table.update_case(watchlist.get("EAC9999103406"))
        assert rows(table)[0] == "EAC9999103406"
        changed_on(watchlist, "EAC9999103404", 2, title="Case Was Received")  # same date
        table.update_case(watchlist.get("EAC9999103404"))
        assert rows(table)[-1] == "EAC9999103404"  # its place kept
        await pilot.pause()
        assert [line[1:18].strip(" ●") for line in table_lines(table)[1:]] == rows(table)
        assert table.reverse_sort() and not table.sort_descending
        table.sort_by(None)
        assert not table.reverse_sort()  # the watchlist's order has no other way
        changed = sum(table.columns[ColumnKey(key)].width + 2 for key in table.shown_columns[:5])
        await pilot.click(CaseTable, offset=(changed + 1, 0))  # the Changed heading
        assert (table.sort_column, table.sort_descending) == ("changed", False)
        await pilot.click(CaseTable, offset=(changed + 1, 0))  # again: the other way
        assert (table.sort_column, table.sort_descending) == ("changed", True)


def many_cases(tmp_path: Path) -> Watchlist:
    """1,200 cases, more than the first rows added at once, labelled "even one" and "odd
    one" in turn, changed on 20 different days."""
    watchlist = Watchlist(tmp_path / "watchlist.toml")
    for day in range(1200):
        receipt = f"EAC99991{day:05d}"
        label = "odd one" if day % 2 else "even one"
        watchlist.add(parse_receipt_number(receipt), label=label, added_at=NOW)
        changed_on(watchlist, receipt, 1 + day % 20)
    return watchlist


async def test_a_case_changed_while_the_rows_fill_in_lands_in_its_place(tmp_path: Path) -> None:
    watchlist = many_cases(tmp_path)
    app = TableOnly(watchlist)
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(CaseTable)
        await pilot.pause()
        table.sort_column = "changed"
        assert table.filling
        first = rows(table)[0]
        changed_on(watchlist, first, 28)
        table.update_case(watchlist.get(first))
        while table.filling:
            await pilot.pause(0.01)
        assert rows(table)[-1] == first and len(rows(table)) == 1200
        assert [case.receipt_number.value for case in table.visible_cases()] == rows(table)


async def test_a_case_outside_the_filter_changed_while_the_rows_fill_in_has_no_place(
    tmp_path: Path,
) -> None:
    # The tester's crash (KeyError in _place): a refresh answered a case the find text
    # leaves out while the rows of the others were still being added.
    watchlist = many_cases(tmp_path)
    receipts = list(watchlist.cases)
    app = TableOnly(watchlist)
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(CaseTable)
        await pilot.pause()
        table.text_filter = "odd"
        assert table.filling
        outside = receipts[0]  # even
        changed_on(watchlist, outside, 28)
        table.update_case(watchlist.get(outside))
        table.update_case(watchlist.get(receipts[1]))  # one inside it, then gone
        del watchlist.cases[receipts[1]]
        table.remove_case(receipts[1])
        while table.filling:
            await pilot.pause(0.01)
        assert len(rows(table)) == 599 and outside not in rows(table)


async def test_grouped_by_client_a_header_row_per_client_counts_its_cases_per_stage(
    tmp_path: Path,
) -> None:
    watchlist = four_cases(tmp_path)
    for receipt, client in (("EAC9999103403", "Garcia, Maria"), ("EAC9999103405", "garcia, maria")):
        watchlist.set_case_details(receipt, client=client)
    watchlist.set_case_details("EAC9999103404", client="Abbott, Ann")
    app = TableOnly(watchlist)
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(CaseTable)
        table.grouped = True
        headers = ["client:abbott ann", "client:garcia maria", "client:"]
        assert rows(table) == [
            *(headers[0], "EAC9999103404"),
            *(headers[1], "EAC9999103403", "EAC9999103405"),
            *(headers[2], "EAC9999103406"),  # no client: last
        ]
        assert [table.full_width_rows[h].plain for h in headers] == [
            "Abbott, Ann · 1 · ○1",
            "Garcia, Maria · 2 · ✔2",
            "No client · 1 · ◆1",
        ]
        assert str(table.border_title) == "Cases · 4 · by client"
        await pilot.pause()
        lines = table_lines(table)
        assert lines[3].strip() == "Garcia, Maria · 2 · ✔2"  # across the table
        assert "Mum" in lines[4] and "Garcia" not in lines[4]  # not said again per case
        table.move_cursor(row=2)
        assert table.selected_receipt is None  # a header is no case: r, d, e do nothing
        table.action_select_cursor()
        await pilot.pause()
        changed_on(watchlist, "EAC9999103405", 9, title="Case Was Received")
        table.update_case(watchlist.get("EAC9999103405"))
        assert table.full_width_rows[headers[1]].plain == "Garcia, Maria · 2 · ○1 ✔1"
        table.sort_by("label", descending=True)  # sorted within each client
        assert rows(table)[2:5] == [headers[1], "EAC9999103405", "EAC9999103403"]
        watchlist.set_case_details("EAC9999103406", client="Abbott, Ann")
        table.update_case(watchlist.get("EAC9999103406"))  # another client: made again
        assert rows(table)[:3] == [headers[0], "EAC9999103404", "EAC9999103406"]
        assert headers[2] not in rows(table)
        watchlist.remove("EAC9999103404")
        table.remove_case("EAC9999103404")
        assert table.full_width_rows[headers[0]].plain == "Abbott, Ann · 1 · ◆1"
        watchlist.remove("EAC9999103406")
        table.remove_case("EAC9999103406")  # the last under its header: the header goes
        assert rows(table) == [headers[1], "EAC9999103405", "EAC9999103403"]
        assert (
            str(table.border_title)
            == "Cases · 2 · 1 changed · n · by client · sorted by Client · label ↓ Z to A"
        )
        table.grouped = False
        assert rows(table) == ["EAC9999103405", "EAC9999103403"]
        assert "Garcia, Maria · Mum" in table_lines(table)[2]


async def test_c_groups_the_dashboard_and_keys_on_a_header_row_do_no_harm(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    first, second = list(app.watchlist.cases)[:2]
    app.watchlist.set_case_details(first, client="Garcia, Maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        await pilot.press("enter")  # the drawer open on the first case
        await pilot.press("c")
        assert rows(table)[:2] == ["client:garcia maria", first]
        assert rows(table)[2] == "client:" and len(rows(table)) == 52
        assert table.selected_receipt == first  # kept through the regrouping
        await pilot.press("k")  # onto the header: the drawer keeps its case
        assert table.selected_receipt is None and app.dashboard.drawer.case is not None
        assert app.dashboard.drawer.case.receipt_number.value == first
        await pilot.press("escape")
        checks: list[object] = []
        monkeypatch.setattr(app.dashboard.refreshes, "check_now", checks.append)
        await pilot.press("enter", "r", "d", "e")  # nothing to open, check, delete or edit
        await pilot.pause()
        assert not app.dashboard.drawer.is_open and checks == []
        assert app.screen is app.dashboard and len(app.watchlist) == 50
        await pilot.press("j", "j", "j")  # over the next header, onto the next case
        assert table.selected_receipt == second
        await pilot.press("c")
        assert rows(table)[:2] == [first, second] and table.selected_receipt == second


async def test_the_table_keeps_no_cells_a_row_shows_its_case_as_it_is_when_painted(
    tmp_path: Path,
) -> None:
    watchlist = four_cases(tmp_path)
    app = TableOnly(watchlist)
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(CaseTable)
        await pilot.pause()
        assert all(data == {} for data in table._data.values())  # no cell kept
        watchlist.set_label("EAC9999103404", "Dad's green card")
        table.update_case(watchlist.get("EAC9999103404"))
        await pilot.pause()
        assert str(table.get_cell("EAC9999103404", "label")) == "Dad's green card"
        assert "Dad's green card" in "".join(
            segment.text for segment in table.render_line(2)
        )  # the row painted again: line 0 is the header, 2 the second case
        with pytest.raises(DuplicateKey):
            table.append_rows(["EAC9999103403"])


async def test_a_long_table_follows_the_find_text_once_the_typing_pauses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(case_table, "SETTLE_FROM_CASES", 4)  # as if 20,000 cases
    app = TableOnly(four_cases(tmp_path))
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(CaseTable)
        await pilot.pause()
        table.text_filter = "d"
        table.text_filter = "dad"  # the next key, before the typing paused
        assert len(rows(table)) == 4  # not filtered at each key
        await pilot.pause(case_table.FIND_SETTLE_S + 0.2)
        assert rows(table) == ["EAC9999103404"]
        table.text_filter = "mum"
        table.find_now()  # enter: at once
        assert rows(table) == ["EAC9999103403"]
