"""Snapshot tests: fixed clock (09:30 US Eastern, 2026-11-29), seeded sandbox data,
animations off. Update with ``pytest --snapshot-update`` after a deliberate change."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from casewatch.tui.app import CaseWatchApp


async def refreshed(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def drawer_open(pilot: Pilot[None]) -> None:
    await refreshed(pilot)
    await pilot.press("down", "down", "enter")
    await pilot.pause()


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
