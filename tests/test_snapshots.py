"""Snapshot tests: fixed clock (09:30 US Eastern, 2026-11-29), seeded sandbox data,
animations off (the statistics' charts too: plotext draws the same each time). Update
with ``pytest --snapshot-update`` after a deliberate change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from textual.pilot import Pilot

from casewatch.receipts import parse_receipt_number
from casewatch.tui.app import CaseWatchApp
from pilot_helpers import every_case_answered
from test_tui_views import seed_changes


async def refreshed(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def drawer_open(pilot: Pilot[None]) -> None:
    await refreshed(pilot)
    await pilot.press("down", "down", "enter")
    await pilot.pause()


CLIENT_DETAILS = (
    ("Garcia, Maria (I-485 adjustment of status)", ""),
    ("Garcia, Maria (I-765 work permit)", ""),
    ("I-131 advance parole", "Garcia, Maria"),
    ("I-130 for her husband", "Garcia, Maria"),
    ("N-400", "Nguyen family"),
)
"""Labels and clients of the first five cases, as a paralegal writes them."""


def with_clients(app: CaseWatchApp) -> CaseWatchApp:
    """``app`` with :data:`CLIENT_DETAILS` on the first cases of its watchlist."""
    for receipt, (label, client) in zip(app.watchlist.cases, CLIENT_DETAILS, strict=False):
        app.watchlist.set_case_details(receipt, label=label, client=client)
    return app


@pytest.mark.parametrize("width", [200, 120, 80, 60])
def test_table_shares_the_width(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp], width: int
) -> None:
    app = with_clients(make_app())
    assert snap_compare(app, terminal_size=(width, 24), run_before=refreshed)


async def grouped_by_client(pilot: Pilot[None]) -> None:
    await refreshed(pilot)
    await pilot.press("c", "o", "o", "o", "o", "o", "o", "O", "g")  # by client, newest change first
    await pilot.pause()


@pytest.mark.parametrize("width", [120, 80])
def test_table_grouped_by_client(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp], width: int
) -> None:
    app = with_clients(make_app())
    assert snap_compare(app, terminal_size=(width, 24), run_before=grouped_by_client)


def test_table_filled(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=refreshed)


def test_drawer_open(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=drawer_open)


def test_narrow_pane(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    assert snap_compare(make_app(), terminal_size=(60, 20), run_before=refreshed)


async def add_dialog_with_a_typo(pilot: Pilot[None]) -> None:
    await refreshed(pilot)
    await pilot.press("a", *"EAC99991O3403")
    await pilot.pause()


async def filtered_by_stage_and_text(pilot: Pilot[None]) -> None:
    await refreshed(pilot)
    await pilot.press("s", "s", "slash", *"i1", "enter")  # I-1xx forms, as typed
    await pilot.pause()


def test_add_dialog(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=add_dialog_with_a_typo)


def test_filtered_table(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=filtered_by_stage_and_text)


async def edit_dialog_of_a_request_for_evidence(pilot: Pilot[None]) -> None:
    await refreshed(pilot)
    await pilot.press(*["down"] * 4, "e", "tab", *"Garcia, Maria", "tab", *"JD; premium")
    await pilot.pause()


def test_edit_dialog(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    assert snap_compare(
        make_app(), terminal_size=(120, 40), run_before=edit_dialog_of_a_request_for_evidence
    )


async def keys_listed(pilot: Pilot[None]) -> None:
    await refreshed(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


async def attention_listed(pilot: Pilot[None]) -> None:
    await every_case_answered(pilot)
    await pilot.press("t")
    await pilot.pause()


async def statistics_shown(pilot: Pilot[None], *keys: str) -> None:
    await every_case_answered(pilot)
    app = pilot.app
    assert isinstance(app, CaseWatchApp)
    seed_changes(app)
    await pilot.press("S", *keys)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def statistics_of_stages(pilot: Pilot[None]) -> None:
    await statistics_shown(pilot)


async def statistics_of_weeks(pilot: Pilot[None]) -> None:
    await statistics_shown(pilot, "3")


@pytest.mark.parametrize(
    ("theme", "size", "run_before"),
    [
        pytest.param("casewatch-light", (120, 40), drawer_open, id="light"),
        pytest.param("casewatch-16", (120, 40), refreshed, id="sixteen-colours"),
        pytest.param("casewatch-16", (40, 12), refreshed, id="sixteen-colours-40x12"),
        pytest.param("casewatch-dark", (40, 12), refreshed, id="dark-40x12"),
        pytest.param("casewatch-dark", (60, 20), drawer_open, id="drawer-60x20"),
        pytest.param("casewatch-dark", (40, 12), add_dialog_with_a_typo, id="add-dialog-40x12"),
        pytest.param("casewatch-dark", (120, 40), keys_listed, id="key-list"),
        # What needs attention (t) and the statistics (S): issue 14.
        pytest.param("casewatch-dark", (120, 40), attention_listed, id="attention-120x40"),
        pytest.param("casewatch-16", (80, 24), attention_listed, id="attention-80x24-16"),
        pytest.param("casewatch-dark", (80, 24), statistics_of_stages, id="stages-80x24"),
        pytest.param("casewatch-16", (80, 24), statistics_of_stages, id="stages-80x24-16"),
        pytest.param("casewatch-dark", (120, 40), statistics_of_weeks, id="weeks-120x40"),
    ],
)
def test_themes_and_pane_sizes(
    snap_compare: Callable[..., bool],
    make_app: Callable[..., CaseWatchApp],
    theme: str,
    size: tuple[int, int],
    run_before: Callable[[Pilot[None]], Awaitable[None]],
) -> None:
    app = make_app()
    app.settings = replace(app.settings, theme=theme)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def at_the_last_case(pilot: Pilot[None]) -> None:
    await refreshed(pilot)
    await pilot.press("G")
    await pilot.pause()


def test_a_case_not_recognized_and_the_changed_count(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    # Issue 13, points 5 and 6: "? not recognized" in the stage column, not "…";
    # the border counts the changes not viewed ("2 changed · n").
    app = make_app()
    watchlist = app.watchlist
    first = watchlist.get("EAC9999103403")
    watchlist.add(parse_receipt_number("EAC1234567890"), label="typo?", added_at=first.added_at)
    for receipt in ("EAC9999103404", "EAC9999103405"):
        watchlist.cases[receipt] = replace(watchlist.get(receipt), unseen=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=at_the_last_case)
