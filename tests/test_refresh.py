"""The refresher on the in-process sandbox: pipelined passes, the quota reserve, and
failures that stop a pass with a reason instead of an exception group."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from casewatch.config import Settings, fast_demo_settings
from casewatch.refresh import Refresher, quota_reserve
from casewatch.sandbox import SandboxConfig
from casewatch.uscis.errors import QuotaExhausted
from casewatch.uscis.ledger import LedgerError
from casewatch.uscis.quota import QuotaReserved
from casewatch.watchlist import open_watchlist


def settings(tmp_path: Path, daily_quota: int = 150_000) -> Settings:
    base = fast_demo_settings(tmp_path, SandboxConfig(latency_ms=(0.0, 0.0), tps=1_000_000.0))
    return replace(base, environment=replace(base.environment, daily_quota=daily_quota))


async def test_a_pass_records_every_case_and_saves(tmp_path: Path) -> None:
    chosen = settings(tmp_path)
    watchlist = open_watchlist(chosen)
    seen: list[str] = []
    async with chosen.open_client() as client:
        progress = await Refresher(
            client, watchlist, on_case=lambda case: seen.append(case.receipt_number.value)
        ).refresh()
    assert (progress.total, progress.done, progress.failed) == (50, 50, 0)
    assert sorted(seen) == sorted(watchlist.cases)
    assert progress.stopped_by is None
    saved = type(watchlist).load(chosen.watchlist_path)
    assert all(case.status is not None for case in saved.cases.values())


def test_the_reserve_is_two_percent_of_the_quota() -> None:
    assert quota_reserve(1_000) == 20
    assert quota_reserve(150_000) == 3_000
    assert quota_reserve(10) == 1


async def test_a_pass_leaves_the_reserve_a_check_of_one_case_spends_it(
    tmp_path: Path,
) -> None:
    chosen = settings(tmp_path, daily_quota=50)  # reserve: 1 request
    watchlist = open_watchlist(chosen)
    async with chosen.open_client() as client:
        refresher = Refresher(client, watchlist)
        automatic = await refresher.refresh()
        assert isinstance(automatic.stopped_by, QuotaReserved)
        assert "kept for manual checks" in str(automatic.stopped_by)
        assert client.limiter.usage().used == 49
        unchecked = next(c for c in watchlist.cases.values() if c.status is None)
        manual = await refresher.check(unchecked.receipt_number)
        assert manual.stopped_by is None and manual.done == 1
        assert watchlist.get(unchecked.receipt_number).status is not None
        assert client.limiter.usage().used == 50
        spent = await refresher.check(unchecked.receipt_number)
        assert isinstance(spent.stopped_by, QuotaExhausted)


async def test_a_check_of_one_case_runs_during_a_pass(tmp_path: Path) -> None:
    chosen = settings(tmp_path)
    watchlist = open_watchlist(chosen)
    async with chosen.open_client() as client:
        refresher = Refresher(client, watchlist)
        last = list(watchlist.cases.values())[-1].receipt_number
        passing = asyncio.create_task(refresher.refresh())
        while not refresher.running:
            await asyncio.sleep(0)
        checked = await refresher.check(last)
        assert refresher.running  # answered before the pass reached it
        assert checked.done == 1 and watchlist.get(last).status is not None
        await passing


async def test_an_unusable_request_ledger_stops_the_pass_with_its_reason(
    tmp_path: Path,
) -> None:
    chosen = settings(tmp_path)
    watchlist = open_watchlist(chosen)
    chosen.state_dir.parent.mkdir(parents=True, exist_ok=True)
    chosen.state_dir.write_text("not a directory")
    async with chosen.open_client() as client:
        progress = await Refresher(client, watchlist).refresh()
    assert isinstance(progress.stopped_by, LedgerError)
    assert "request ledger" in str(progress.stopped_by)
    assert progress.done == 0


async def test_a_failed_save_mid_pass_does_not_stop_it_and_the_last_save_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = settings(tmp_path)
    watchlist = open_watchlist(chosen)
    monkeypatch.setattr("casewatch.refresh.SAVE_EVERY_S", 0.0)

    def disk_full(path: Path, text: str) -> None:
        raise OSError(28, f"cannot write {path}: No space left on device")

    monkeypatch.setattr("casewatch.watchlist.writing.atomic_write_text", disk_full)
    async with chosen.open_client() as client:
        refresher = Refresher(client, watchlist)
        with pytest.raises(OSError, match="No space left"):
            await refresher.refresh()
        assert refresher.progress is not None and refresher.progress.done == 50


async def test_cases_removed_during_a_pass_are_skipped(tmp_path: Path) -> None:
    chosen = settings(tmp_path)
    watchlist = open_watchlist(chosen)
    kept: list[str] = []

    def remove_the_others(case: object) -> None:
        if not kept:
            kept.append(case.receipt_number.value)  # type: ignore[attr-defined]
            for receipt in [r for r in watchlist.cases if r != kept[0]]:
                watchlist.remove(receipt)

    async with chosen.open_client() as client:
        progress = await Refresher(client, watchlist, on_case=remove_the_others).refresh()
    assert progress.done == 50 and progress.stopped_by is None
    assert list(watchlist.cases) == kept
