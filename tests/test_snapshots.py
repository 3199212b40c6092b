"""Snapshot tests: fixed clock (09:30 US Eastern, 2026-11-29), seeded sandbox data,
animations off. Update with ``pytest --snapshot-update`` after a deliberate change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from textual.pilot import Pilot

from casewatch.tui.app import CaseWatchApp


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
    await pilot.press("s", "s", "slash", *"I-", "enter")
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
