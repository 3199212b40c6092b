"""Helpers of the Pilot tests: waiting for what a worker does (with no timed
assertion), reading the history drawer as the user sees it, and recording the toasts."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from casewatch.tui.app import CaseWatchApp


async def until(pilot: Pilot[None], condition: Callable[[], bool]) -> None:
    """Wait for ``condition``, up to a minute (a busy machine runs a refresh meanwhile)."""
    for _ in range(1200):
        if condition():
            return
        await pilot.pause(0.05)


def drawer_text(app: App[None]) -> str:
    """The history drawer's text, 80 columns wide."""
    console = Console(width=80, file=io.StringIO(), record=True)
    console.print(app.query_one("#drawer-body", Static).content)
    return console.export_text()


def screen_text(app: App[None]) -> str:
    """The texts of the current screen's ``Static`` widgets (a dialog, the key list), 100
    columns wide."""
    console = Console(width=100, file=io.StringIO(), record=True)
    for static in app.screen.query(Static):
        console.print(static.content)
    return console.export_text()


def record_toasts(app: CaseWatchApp, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """From now on, the toasts of ``app`` as ``(title, message)``, in place of showing
    them."""
    toasts: list[tuple[str, str]] = []
    monkeypatch.setattr(
        app, "notify", lambda message, **kw: toasts.append((kw.get("title", ""), message))
    )
    return toasts


async def every_case_answered(pilot: Pilot[None]) -> None:
    """Wait until USCIS's answer for every case is recorded (the first pass ended)."""
    app = pilot.app
    assert isinstance(app, CaseWatchApp)
    await until(
        pilot, lambda: all(case.status is not None for case in app.watchlist.cases.values())
    )
    await app.workers.wait_for_complete()
    await pilot.pause()
