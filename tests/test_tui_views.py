"""Pilot tests of the dashboard's views of the caseload (issue 14): what needs attention
(``t``) and the statistics (``S``), on the built-in sandbox with a frozen clock."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from rich.console import Console
from textual.widgets import Label, OptionList, TabbedContent

from casewatch.cases import US_EASTERN
from casewatch.tui.app import CaseWatchApp
from casewatch.tui.attention_view import AttentionScreen
from casewatch.tui.case_table import CaseTable
from casewatch.tui.drawer import HistoryDrawer
from casewatch.tui.statistics_view import StatisticsScreen
from casewatch.watchlist import ChangeEvent
from conftest import FROZEN_NOW
from pilot_helpers import drawer_text, every_case_answered, record_toasts


def options_text(app: CaseWatchApp) -> list[str]:
    """The attention view's lines as the user reads them (80 columns), one per option."""
    console = Console(width=80, file=io.StringIO(), record=True)
    texts = []
    for option in app.screen.query_one(OptionList).options:
        console.print(option.prompt)
        texts.append(" ".join(console.export_text().split()))
    return texts


async def test_t_lists_what_needs_attention_in_order_and_escape_closes_it(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await every_case_answered(pilot)
        # A change the user has not viewed yet.
        case = app.watchlist.get("EAC9999103405")
        app.watchlist.cases[case.receipt_number.value] = replace(case, unseen=True)
        await pilot.press("t")
        assert isinstance(app.screen, AttentionScreen)
        lines = options_text(app)
        headings = [line for line in lines if not line.startswith(("EAC", "SRC", "LIN"))]
        assert headings == [
            "Responses due, soonest first · 4",
            "Changes not viewed yet · 1",
            "No change from USCIS for more than 180 days · 35",
        ]
        # Soonest first, each saying why, as casewatch attention says it.
        assert lines[1] == (
            "EAC9999103411 · I-130 · with history OVERDUE response due ≈ 2022-08-28, "
            "overdue by 1554 days — the notice has the exact date"
        )
        assert lines[6].startswith("EAC9999103405 · I-539 · with history change not viewed: ")
        assert lines[8] == (
            "SRC9999132719 · I-140 · with history no change from USCIS: USCIS has not "
            "changed it for 1689 days, since 2022-04-15"
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, AttentionScreen)
        assert not app.query_one(HistoryDrawer).is_open


async def test_enter_on_an_entry_shows_its_case_with_the_drawer_clearing_a_hiding_filter(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await every_case_answered(pilot)
        toasts = record_toasts(app.dashboard, monkeypatch)
        await pilot.press("slash", *"I-485", "enter")  # hides the I-130 due first
        table = app.query_one(CaseTable)
        assert "EAC9999103411" not in {c.receipt_number.value for c in table.visible_cases()}
        await pilot.press("t", "down", "enter")  # the second response due
        await pilot.pause()
        assert not isinstance(app.screen, AttentionScreen)
        assert table.text_filter == "" and table.row_count == 50
        assert table.selected_receipt == "SRC9999102780"
        drawer = app.query_one(HistoryDrawer)
        assert drawer.is_open and "SRC9999102780" in drawer_text(app)
        assert table.has_focus
        assert toasts == [("Every case shown", "Filter cleared to show SRC9999102780.")]
        # Shown already: no filter to clear, the drawer moves to the case chosen.
        await pilot.press("t", "enter")  # the first entry is highlighted
        await pilot.pause()
        assert table.selected_receipt == "EAC9999103411"
        assert drawer.is_open and "EAC9999103411" in drawer_text(app)
        assert len(toasts) == 1


def seed_changes(app: CaseWatchApp) -> None:
    """Give the first 30 cases a change each, one every 5 days back from the frozen
    clock, seen by casewatch before it started watching them here (a file from before)."""
    for index, case in enumerate(list(app.watchlist.cases.values())[:30]):
        assert case.status is not None
        seen = datetime.fromtimestamp(FROZEN_NOW, US_EASTERN) - timedelta(days=1 + 5 * index)
        change = ChangeEvent(seen, seen, "Case Was Received", case.status.title_en, ("title",))
        app.watchlist.cases[case.receipt_number.value] = replace(
            case, events=(change, *case.events)
        )


async def test_capital_s_charts_the_cases_the_filter_shows_and_escape_closes_it(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await every_case_answered(pilot)
        seed_changes(app)
        await pilot.press("S")
        screen = app.screen
        assert isinstance(screen, StatisticsScreen)
        figures = screen.figures
        assert figures.cases == 50 and sum(count for _, count in figures.per_stage) == 50
        assert sum(count for _, count in figures.weeks) == 30
        assert (
            str(screen.query_one("#statistics-scope", Label).content) == "Statistics · Cases · 50"
        )
        tabs = screen.query_one(TabbedContent)
        assert tabs.active == "stages"
        await pilot.press("3")
        assert tabs.active == "weeks"
        await pilot.press("2")
        assert tabs.active == "days"
        await pilot.press("escape")
        assert not isinstance(app.screen, StatisticsScreen)
        # With a filter, the charts follow it.
        await pilot.press("slash", *"I-751", "enter", "S")
        screen = app.screen
        assert isinstance(screen, StatisticsScreen)
        assert screen.figures.cases == 10
        assert [spread.form_type for spread in screen.figures.days_by_form] == ["I-751"]
        scope = str(screen.query_one("#statistics-scope", Label).content)
        assert scope == "Statistics · Cases · 10 of 50 · /I-751"
        await pilot.press("S")  # S closes too
        assert not isinstance(app.screen, StatisticsScreen)
