"""The palette's report of the cases shown and its diagnostics (issue 15, points 2 and 3)."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input

from casewatch.tui.app import CaseWatchApp
from casewatch.tui.commands import case_commands
from casewatch.tui.dialogs import AskScreen
from pilot_helpers import record_toasts, until


def command(app: CaseWatchApp, title: str) -> Callable[[], object]:
    """The palette entry ``title``'s callback."""
    [found] = [c for c in case_commands(app.dashboard, app.keymap) if c.title == title]
    return found.callback


async def test_write_a_report_writes_the_cases_shown_to_a_private_file_of_the_format_asked(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        toasts = record_toasts(app, monkeypatch)
        table = app.dashboard.table
        table.text_filter = "EAC9999103403"
        await pilot.pause()
        shown = [case.receipt_number.value for case in table.visible_cases()]
        assert shown == ["EAC9999103403"]
        command(app, "Write a report")()
        await until(
            pilot, lambda: isinstance(app.screen, AskScreen) and bool(app.screen.query(Input))
        )
        answer = app.screen.query_one(Input)
        assert answer.value.endswith(".md")
        answer.value = str(tmp_path / "report.pdf")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AskScreen)  # the dialog stays, saying why
        assert not (tmp_path / "report.pdf").exists()
        answer.value = str(tmp_path / "report.html")
        await pilot.press("enter")
        await until(pilot, lambda: any(title == "Report written" for title, _ in toasts))
    report = tmp_path / "report.html"
    text = report.read_text()
    assert text.startswith("<!DOCTYPE html>") and "EAC9999103403" in text
    assert "EAC9999103402" not in text  # outside the filter
    assert "/EAC9999103403" in text  # the filter, named
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


async def test_diagnostics_are_copied_to_the_clipboard_and_saved_without_a_secret(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        toasts = record_toasts(app, monkeypatch)
        command(app, "Diagnostics for a bug report")()
        await until(pilot, lambda: bool(toasts))
    [text] = copied
    assert "## versions" in text and "## request ledger" in text
    assert app.settings.credentials.client_secret.reveal() not in text
    assert "EAC9999103403" not in text  # masked wherever it appears
    [(title, message)] = toasts
    assert title == "Diagnostics" and "saved to" in message
    [saved] = app.settings.state_dir.glob("diagnose-*.txt")
    assert saved.read_text() == text and stat.S_IMODE(saved.stat().st_mode) == 0o600
