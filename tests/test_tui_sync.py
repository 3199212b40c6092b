"""The dashboard's watchlist sync and what a refresh means, without a screen: a failed
save said once and its recovery said, another process's changes reported, a lease that
cannot be taken said once; a spent quota pauses, refused credentials stop, and the line
under the table; remapped keys checked."""

from __future__ import annotations

import errno
from datetime import datetime
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.message import Message

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.receipts import parse_receipt_number
from casewatch.refresh import RefresherLease, RefreshProgress
from casewatch.tui.keys import Keymap
from casewatch.tui.messages import LeaseTaken, SaveProblem, WatchlistSynced
from casewatch.tui.refreshing import LEDGER_RETRY_S, REFUSED, pass_end, refresh_line
from casewatch.tui.sync import WatchlistSync
from casewatch.uscis.errors import AuthenticationError, QuotaExhausted
from casewatch.uscis.ledger import RedisUnavailable
from casewatch.uscis.limits import RateLimiter
from casewatch.watchlist import Watchlist
from conftest import FROZEN_NOW
from test_tui_case_table import four_cases

NOW = datetime.fromtimestamp(FROZEN_NOW, US_EASTERN)


def synced(tmp_path: Path) -> tuple[WatchlistSync, list[Message]]:
    watchlist = four_cases(tmp_path)
    watchlist.save()
    posted: list[Message] = []
    return WatchlistSync(Watchlist.load(watchlist.path), posted.append), posted


async def test_a_failed_save_is_said_once_kept_and_its_recovery_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync, posted = synced(tmp_path)

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as full:
        full.setattr("casewatch.files.os.fsync", disk_full)
        sync.watchlist.set_label("EAC9999103403", "one")
        await sync.save()
        sync.watchlist.set_label("EAC9999103403", "two")
        await sync.save()
    assert [(p.title, p.severity) for p in posted if isinstance(p, SaveProblem)] == [
        ("Could not save the watchlist", "error")
    ]
    assert sync.save_problem is not None and "No space left" in sync.save_problem
    sync.retry_save_at = 0.0  # 30 s later
    await sync.follow()
    said = [p for p in posted if isinstance(p, SaveProblem)]
    assert len(said) == 2 and said[-1].title == "Saved"
    assert sync.save_problem is None and sync.lease.held  # it refreshes now
    sync.lease.release()
    assert Watchlist.load(sync.watchlist.path).get("EAC9999103403").label == "two"


async def test_what_another_process_wrote_is_reported_once_read(tmp_path: Path) -> None:
    sync, posted = synced(tmp_path)
    elsewhere = Watchlist.load(sync.watchlist.path)
    elsewhere.set_label("EAC9999103404", "Dad's I-485")
    receipt = parse_receipt_number("EAC9999103405")
    status = CaseStatus(receipt.value, "I-765", "Card Was Mailed To Me", "Mailed.")
    elsewhere.record_status(receipt, status, NOW)
    elsewhere.save()
    await sync.follow(read_now=True)
    sync.lease.release()
    reports = [p for p in posted if isinstance(p, WatchlistSynced)]
    assert len(reports) == 1
    assert set(reports[0].changes) == {"EAC9999103404", "EAC9999103405"}
    assert sync.watchlist.get("EAC9999103404").label == "Dad's I-485"


def test_the_lease_is_taken_said_or_its_problem_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync, posted = synced(tmp_path)
    other = RefresherLease(sync.watchlist.path)
    assert other.try_take()
    assert not sync.take_lease() and posted == []  # the other process refreshes
    other.release()
    assert sync.take_lease() and isinstance(posted[-1], LeaseTaken)
    sync.lease.release()

    def read_only(lease: RefresherLease) -> bool:
        raise OSError(errno.EROFS, "Read-only file system", str(lease.path))

    monkeypatch.setattr(RefresherLease, "try_take", read_only)
    posted.clear()
    assert not sync.take_lease() and not sync.take_lease()
    assert len(posted) == 1 and isinstance(posted[0], SaveProblem)
    assert posted[0].message.startswith("Automatic refreshes are off: Read-only file system")


def test_a_spent_quota_pauses_until_midnight_and_refused_credentials_stop(
    tmp_path: Path,
) -> None:
    limiter = RateLimiter(tmp_path / "l.json", tps=10, daily_quota=100, clock=lambda: FROZEN_NOW)
    spent = RefreshProgress(total=50, done=20, stopped_by=QuotaExhausted("quota"))
    end = pass_end(spent, interval_s=900, outage_over=False, limiter=limiter)
    assert end.wait_s == pytest.approx(14.5 * 3600 + 1)  # 09:30 to midnight US Eastern
    assert end.paused_until is not None and f"{end.paused_until:%H:%M}" == "00:00"
    assert end.toast is not None and end.toast.title == "Refresh paused"
    refused = RefreshProgress(total=50, stopped_by=AuthenticationError("invalid_client"))
    end = pass_end(refused, interval_s=900, outage_over=False, limiter=limiter)
    assert end.wait_s is None and end.stopped == REFUSED
    assert end.toast is not None and end.toast.severity == "error"
    gone = RefreshProgress(total=50, done=3, stopped_by=RedisUnavailable("Redis at redis://h"))
    end = pass_end(gone, interval_s=900, outage_over=False, limiter=limiter)
    assert end.wait_s == LEDGER_RETRY_S  # the ledger is tried again soon, not in an hour
    assert end.toast is not None and "Redis at redis://h" in end.toast.message
    done = RefreshProgress(total=50, done=50)
    assert pass_end(done, interval_s=900, outage_over=False, limiter=limiter).wait_s == 900
    assert pass_end(done, interval_s=900, outage_over=True, limiter=limiter).wait_s < 1


def test_the_line_under_the_table_says_the_pass_the_next_one_or_who_refreshes() -> None:
    progress = RefreshProgress(total=50, done=3)
    line = refresh_line(progress, running=True, lease_held=True, holder=None, next_at=None)
    assert line == "refreshing 3 of 50"
    line = refresh_line(progress, running=False, lease_held=False, holder=4242, next_at=None)
    assert line == "refreshed by another casewatch (pid 4242)"
    line = refresh_line(None, running=False, lease_held=True, holder=None, next_at=FROZEN_NOW)
    assert line == "next refresh 09:30 ET"
    assert refresh_line(None, running=False, lease_held=True, holder=None, next_at=None) is None


def test_remapped_keys_are_checked_and_listed() -> None:
    keymap = Keymap({"find": "j", "next_stage": "t", "hyperdrive": "h"}, lambda b: b.key)
    problems = dict(keymap.problems("config.toml"))
    assert "unknown hyperdrive" in problems["Keys not remapped"]
    assert "j (cursor_down and find)" in problems["Keys remapped twice"]
    assert keymap.remapped == {"find": "j", "next_stage": "t"}
    assert keymap.keys(Binding("s", "next_stage", id="next_stage")) == ["t"]
    assert ("t", "Stage filter") in {(keys, name) for keys, name, _, _ in keymap.key_list()}
    assert Keymap({}, lambda b: b.key).problems("config.toml") == []
