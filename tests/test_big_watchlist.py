"""What lets a watchlist of 100,000 cases be read quickly and held in little memory
(issue 16, point 4): the texts that repeat across cases kept once, the garbage collector
kept off the cases, and a file as casewatch writes it read case by case, by the same
rules as the whole-file read."""

import gc
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import Watchlist, WatchlistError, reading
from casewatch.watchlist.reading import paused_collection

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)


def two_approved(path: Path) -> Watchlist:
    watchlist = Watchlist(path)
    for receipt in ("EAC9999103403", "EAC9999103404"):
        number = parse_receipt_number(receipt)
        watchlist.add(number, label=f"case {receipt[-1]}", client="Garcia, Maria", added_at=NOW)
        status = CaseStatus(receipt, "I-130", "Case Was Approved", f"We approved {receipt}.")
        watchlist.record_status(number, status, NOW)
    watchlist.save()
    return watchlist


def test_texts_that_repeat_across_cases_are_kept_once(tmp_path: Path) -> None:
    two_approved(tmp_path / "w.toml")
    first, second = Watchlist.load(tmp_path / "w.toml").cases.values()
    assert first.status is not None and second.status is not None
    assert first.status.title_en is second.status.title_en  # one string for both
    assert first.client is second.client and first.events[0].fields[0] is second.events[0].fields[0]
    assert first.status.description_en != second.status.description_en


def test_reading_leaves_the_collector_as_it_was_and_many_cases_out_of_its_sight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_approved(tmp_path / "w.toml")
    gc.unfreeze()
    few = next(iter(Watchlist.load(tmp_path / "w.toml").cases.values()))
    assert any(few is tracked for tracked in gc.get_objects())  # a few: not frozen
    monkeypatch.setattr(reading, "FREEZE_FROM_CASES", 2)  # as if it held 20,000
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            gc.unfreeze()
            watchlist = Watchlist.load(tmp_path / "w.toml")
            assert gc.isenabled() is enabled
            case = next(iter(watchlist.cases.values()))
            assert gc.get_freeze_count() > 0
            assert not any(case is tracked for tracked in gc.get_objects())  # frozen
    finally:
        gc.enable()
        gc.unfreeze()


def test_the_collector_runs_again_after_a_read_that_failed() -> None:
    with pytest.raises(ValueError), paused_collection({}):
        assert not gc.isenabled()
        raise ValueError("a case that does not parse")
    assert gc.isenabled()
    gc.unfreeze()


def test_a_broken_case_in_a_long_file_is_reported_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    watchlist = two_approved(path)
    for number in range(300):
        watchlist.add(parse_receipt_number(f"LIN{2_100_000_000 + number:010d}"), added_at=NOW)
    watchlist.save()
    text = path.read_text()
    path.write_text(text.replace('label = "case 4"', 'label = "case 4', 1))  # unclosed
    with pytest.raises(WatchlistError, match=r"line \d+, column \d+"):
        Watchlist.load(path)


def test_a_case_read_alone_equals_the_whole_file_read(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    watchlist = two_approved(path)
    changed = replace(watchlist.get("EAC9999103403"), note='a "quoted"\nnote\twith tabs é')
    watchlist.cases["EAC9999103403"] = changed
    watchlist.save()
    split = Watchlist.load(path)
    path.write_text("# by hand\n" + path.read_text())  # not as casewatch writes: whole
    assert Watchlist.load(path).cases == split.cases
