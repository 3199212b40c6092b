"""Pilot tests of several casewatch processes on one watchlist, seen from a dashboard:
one refresher and followers, external edits taken in, a bad file never written over,
a full disk survived (issue 6). The other process is played by the test: a
:class:`RefresherLease` or a :class:`Watchlist` of its own on the same file."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from textual.pilot import Pilot

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.receipts import parse_receipt_number
from casewatch.refresh import RefresherLease
from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_table import CaseTable
from casewatch.watchlist import Watchlist, backup_path
from pilot_helpers import record_toasts

TARGET = "EAC9999103404"
"""A staging receipt on the demo watchlist (label "with history")."""

NEW = "EAC9999200001"


def cell(app: CaseWatchApp, receipt: str, column: str) -> str:
    return str(app.query_one(CaseTable).get_cell(receipt, column))


async def follow(app: CaseWatchApp, pilot: Pilot[None]) -> None:
    """What the dashboard does every 2 s, now (as if the last reading of the file was
    long ago), and what the dashboard shows of it."""
    await app.dashboard.sync.follow(read_now=True)
    await pilot.pause()


async def test_a_follower_does_not_refresh_shows_the_others_changes_and_takes_over(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    toasts = record_toasts(app, monkeypatch)
    hooks: list[object] = []
    monkeypatch.setattr(
        "casewatch.tui.refreshing.announce_change", lambda *args: hooks.append(args)
    )
    monkeypatch.setattr(app, "bell", lambda: hooks.append("bell"))
    other = RefresherLease(app.watchlist.path)
    assert other.try_take()  # another dashboard refreshes this watchlist
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        assert app.dashboard.client is not None and app.dashboard.client.limiter.usage().used == 0
        table = app.query_one(CaseTable)
        assert table.border_subtitle == f"refreshed by another casewatch (pid {os.getpid()})"
        # The other process checks a case twice and sees a change.
        elsewhere = Watchlist.load(app.watchlist.path)
        receipt = parse_receipt_number(TARGET)
        now = datetime.now(US_EASTERN)
        for minutes, title in ((0, "Case Was Received"), (1, "Case Was Approved")):
            status = CaseStatus(TARGET, "I-130", title, f"{title}.")
            elsewhere.record_status(receipt, status, now + timedelta(minutes=minutes))
        elsewhere.save()
        await follow(app, pilot)
        await pilot.pause()
        assert cell(app, TARGET, "status") == "Case Was Approved"
        assert cell(app, TARGET, "receipt").startswith("●")
        assert toasts == [
            (
                f"{TARGET} (with history) changed (seen by another casewatch)",
                "Case Was Received → Case Was Approved",
            )
        ]
        assert hooks == []  # its hooks ran in the process that saw it
        other.release()  # the other dashboard quits
        await follow(app, pilot)
        assert app.dashboard.sync.lease.held
        await app.workers.wait_for_complete()
        assert (
            app.dashboard.client.limiter.usage().used == 49
        )  # every case but the one checked there
        assert table.border_subtitle.startswith("next refresh")


async def test_an_edit_by_another_process_updates_the_rows(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        elsewhere = Watchlist.load(app.watchlist.path)
        elsewhere.set_label(TARGET, "Mum's I-130")
        elsewhere.remove("EAC9999103403")
        elsewhere.add(parse_receipt_number(NEW), label="new", added_at=datetime.now(US_EASTERN))
        elsewhere.save()
        await follow(app, pilot)
        await pilot.pause()
        assert cell(app, TARGET, "label") == "Mum's I-130"
        assert table.row_count == 50 and table.border_title == "Cases · 50"
        assert "EAC9999103403" not in app.watchlist.cases and cell(app, NEW, "label") == "new"
        assert not app.watchlist.has_unsaved_changes()


async def test_a_broken_file_is_reported_never_written_over_and_saved_once_restored(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    toasts = record_toasts(app, monkeypatch)
    path = app.watchlist.path
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        assert backup_path(path).exists()  # the seeded file, before the first pass
        broken = path.read_bytes().replace(b"[[case]]", b"[[case]", 1)
        path.write_bytes(broken)
        await follow(app, pilot)
        title, message = toasts[-1]
        assert title == "The watchlist file is not valid"
        assert f"{path} is not valid TOML: line " in message and ", column " in message
        assert f"cp {backup_path(path)} {path}" in message
        await pilot.press("down", "e", "ctrl+u", *"Mum", "enter")
        await app.workers.wait_for_complete()
        await follow(app, pilot)
        assert path.read_bytes() == broken  # never written over
        assert len(toasts) == 1  # said once
        assert cell(app, TARGET, "label") == "Mum"
        shutil.copy(backup_path(path), path)  # the user restores the backup
        await follow(app, pilot)
        assert toasts[-1] == ("Saved", f"Saved {path} again.")
    saved = Watchlist.load(path)
    assert saved.get(TARGET).label == "Mum" and len(saved) == 50
    assert all(case.status is not None for case in saved.cases.values())


async def test_a_full_disk_keeps_the_cases_in_memory_says_so_once_and_retries(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    toasts = record_toasts(app, monkeypatch)
    path = app.watchlist.path

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        before = path.read_bytes()
        with monkeypatch.context() as full:
            full.setattr("casewatch.files.os.fsync", disk_full)
            await pilot.press("down", "e", "ctrl+u", *"one", "enter")
            await app.workers.wait_for_complete()
            await pilot.press("down", "e", "ctrl+u", *"two", "enter")
            await app.workers.wait_for_complete()
            await follow(app, pilot)  # not yet time to retry
        assert toasts == [
            (
                "Could not save the watchlist",
                f"cannot write {path}: No space left on device. Your cases are kept in "
                "memory; casewatch tries again every 30 s and at the next change.",
            )
        ]
        assert path.read_bytes() == before
        assert [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"] == []
        assert cell(app, TARGET, "label") == "one"
        app.dashboard.sync.retry_save_at = 0.0  # 30 s later
        await follow(app, pilot)
        assert toasts[-1] == ("Saved", f"Saved {path} again.")
        assert app.save_problem is None
    saved = Watchlist.load(path)
    assert saved.get(TARGET).label == "one" and saved.get("EAC9999103405").label == "two"


async def test_a_lease_that_cannot_be_taken_is_said_once_and_checks_still_work(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    toasts = record_toasts(app, monkeypatch)

    def read_only(lease: RefresherLease) -> bool:
        raise OSError(errno.EROFS, "Read-only file system", str(lease.path))

    monkeypatch.setattr(RefresherLease, "try_take", read_only)
    async with app.run_test(size=(120, 40)) as pilot:
        await follow(app, pilot)
        await follow(app, pilot)
        assert toasts == [
            (
                "",
                "Automatic refreshes are off: Read-only file system: "
                f"{app.watchlist.path}.refresher.lock",
            )
        ]
        await pilot.press("r")  # a manual check still works
        await app.workers.wait_for_complete()
        assert app.watchlist.get("EAC9999103403").status is not None
        assert app.watchlist.get("EAC9999103402").status is None


async def test_quitting_saves_what_is_left_or_says_why_it_could_not(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    record_toasts(app, monkeypatch)

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        monkeypatch.setattr("casewatch.files.os.fsync", disk_full)
        await pilot.press("down", "e", "ctrl+u", *"one", "enter")
        await app.workers.wait_for_complete()
    assert app.save_problem == f"cannot write {app.watchlist.path}: No space left on device"
    assert app.watchlist.has_unsaved_changes()
    monkeypatch.undo()
    app = make_app()
    async with app.run_test(size=(120, 40)):
        await app.workers.wait_for_complete()
        app.watchlist.set_label(TARGET, "typed just before quitting")
    assert app.save_problem is None
    assert Watchlist.load(app.watchlist.path).get(TARGET).label == "typed just before quitting"


@pytest.mark.parametrize("refreshes_here", [True, False])
async def test_only_the_dashboard_that_refreshes_warns_of_a_short_quota(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch, refreshes_here: bool
) -> None:
    app = make_app()
    short = replace(app.settings.environment, daily_quota=100)  # 50 cases need ~1,200
    app.settings = replace(app.settings, environment=short)
    toasts = record_toasts(app, monkeypatch)
    other = RefresherLease(app.watchlist.path)
    if not refreshes_here:
        assert other.try_take()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    warned = [message for title, message in toasts if title == "More cases than the daily quota"]
    assert len(warned) == (1 if refreshes_here else 0)
    other.release()
