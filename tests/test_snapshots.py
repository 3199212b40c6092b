"""Snapshot tests: fixed clock (09:30 US Eastern, 2026-11-29), seeded sandbox data,
animations off. Update with ``pytest --snapshot-update`` after a deliberate change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

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


def themed(app: CaseWatchApp, theme: str) -> CaseWatchApp:
    app.settings = replace(app.settings, theme=theme)
    return app


async def keys_listed(pilot: Pilot[None]) -> None:
    await refreshed(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


async def add_dialog(pilot: Pilot[None]) -> None:
    await refreshed(pilot)
    await pilot.press("a", *"EAC99991O3403")
    await pilot.pause()


def test_light_theme(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    app = themed(make_app(), "casewatch-light")
    assert snap_compare(app, terminal_size=(120, 40), run_before=drawer_open)


def test_sixteen_colour_theme(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    app = themed(make_app(), "casewatch-16")
    assert snap_compare(app, terminal_size=(120, 40), run_before=refreshed)


def test_sixteen_colour_theme_in_a_compact_pane(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    app = themed(make_app(), "casewatch-16")
    assert snap_compare(app, terminal_size=(40, 12), run_before=refreshed)


def test_compact_pane(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    assert snap_compare(make_app(), terminal_size=(40, 12), run_before=refreshed)


def test_narrow_pane_with_the_drawer_open(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    assert snap_compare(make_app(), terminal_size=(60, 20), run_before=drawer_open)


def test_add_dialog_in_a_compact_pane(
    snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]
) -> None:
    assert snap_compare(make_app(), terminal_size=(40, 12), run_before=add_dialog)


def test_key_list(snap_compare: Callable[..., bool], make_app: Callable[..., CaseWatchApp]) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=keys_listed)
