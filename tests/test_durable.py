"""A watchlist that never loses a case: merges of what two processes wrote, the backup,
bad files left byte for byte, schema migration, storage faults, and real processes
adding at once or killed by ``kill -9`` in the middle of saves (issue 6)."""

from __future__ import annotations

import asyncio
import errno
import importlib.util
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.cli import main
from casewatch.config_file import ConfigError, read_config_file
from casewatch.receipts import parse_receipt_number
from casewatch.refresh import RefresherLease
from casewatch.watchlist import (
    SCHEMA_VERSION,
    ChangeEvent,
    WatchedCase,
    Watchlist,
    WatchlistError,
    backup_path,
    merge_events,
    reading,
    store,
    watchlist_text,
)
from casewatch.watchlist import toml as watchlist_toml
from casewatch.watchlist import writing as watchlist_writing
from casewatch.watchlist.writing import digest_path

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)
LATER = NOW + timedelta(hours=1)
FIRST = parse_receipt_number("EAC9999103403")
SECOND = parse_receipt_number("EAC9999103402")
THIRD = parse_receipt_number("WAC2190012345")


def status(title: str) -> CaseStatus:
    return CaseStatus(FIRST.value, "I-130", title, f"{title}: the description")


def receipt(number: int) -> str:
    """The ``number``-th synthetic receipt number (valid, never a staging receipt)."""
    return f"LIN{2_100_000_000 + number:010d}"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "w.toml"


INLINE = f"""schema = 1
case = [
    {{ receipt_number = "{FIRST}", label = "mom", added_at = {NOW.isoformat()} }},
    {{ receipt_number = "{SECOND}", added_at = {NOW.isoformat()} }},
]
"""


def two_panes(path: Path) -> tuple[Watchlist, Watchlist]:
    """Two processes' views of one saved watchlist holding FIRST and SECOND."""
    seed = Watchlist(path)
    seed.add(FIRST, label="mom", added_at=NOW)
    seed.add(SECOND, added_at=NOW)
    seed.save()
    return Watchlist.load(path), Watchlist.load(path)


# --- merging -------------------------------------------------------------------------------


def test_cases_added_by_two_processes_are_all_kept(path: Path) -> None:
    one, two = two_panes(path)
    one.add(THIRD, added_at=NOW)
    one.save()
    two.add(parse_receipt_number(receipt(1)), added_at=NOW)
    changes = two.save()
    assert list(Watchlist.load(path).cases) == [FIRST.value, SECOND.value, THIRD.value, receipt(1)]
    assert list(two.cases) == list(Watchlist.load(path).cases)
    assert changes == {THIRD.value: None}  # what the save took in from the other process


def test_a_label_and_a_status_set_by_two_processes_are_both_kept(path: Path) -> None:
    one, two = two_panes(path)
    one.set_label(FIRST, "Mom's I-130")
    one.save()
    two.record_status(FIRST, status("Case Was Received"), NOW)
    two.save()
    case = Watchlist.load(path).get(FIRST)
    assert case.label == "Mom's I-130"
    assert case.status is not None and case.status.title_en == "Case Was Received"


def test_the_later_check_wins_and_the_events_of_both_are_kept_once(path: Path) -> None:
    one, two = two_panes(path)
    for pane in (one, two):
        pane.record_status(FIRST, status("Case Was Received"), NOW)
    one.record_status(FIRST, status("Case Was Approved"), LATER)
    two.record_status(FIRST, status("Case Is Being Actively Reviewed"), NOW + timedelta(minutes=1))
    two.save()
    one.save()
    case = Watchlist.load(path).get(FIRST)
    assert case.checked_at == LATER and case.status is not None
    assert case.status.title_en == "Case Was Approved"
    assert [event.title for event in case.events] == [
        "Case Was Received",  # seen by both: kept once
        "Case Is Being Actively Reviewed",
        "Case Was Approved",
    ]
    assert case.unseen


def test_a_change_seen_elsewhere_stays_marked_when_an_older_one_was_viewed_here(
    path: Path,
) -> None:
    one, two = two_panes(path)
    one.record_status(FIRST, status("Case Was Received"), NOW)
    one.record_status(FIRST, status("Case Was Approved"), NOW + timedelta(minutes=1))
    one.save()
    two = Watchlist.load(path)
    assert two.get(FIRST).unseen
    one.record_status(FIRST, status("Card Was Mailed To Me"), LATER)
    one.save()
    two.mark_seen(FIRST)  # the user viewed the approval, not the card
    two.save()
    assert Watchlist.load(path).get(FIRST).unseen


def test_a_removal_wins_over_a_status_checked_elsewhere(path: Path) -> None:
    one, two = two_panes(path)
    two.record_status(FIRST, status("Case Was Received"), NOW)
    two.save()
    one.remove(FIRST)
    one.save()
    assert list(Watchlist.load(path).cases) == [SECOND.value]
    # and the other way round: the checker saves after the removal
    one, two = Watchlist.load(path), Watchlist.load(path)
    one.remove(SECOND)
    one.save()
    two.record_error(SECOND, "USCIS is unavailable", NOW)
    two.save()
    assert list(Watchlist.load(path).cases) == []


def test_a_removal_does_not_lose_a_label_it_had_not_seen(path: Path) -> None:
    one, two = two_panes(path)
    two.set_label(FIRST, "dad")
    two.save()
    one.remove(FIRST)
    one.save()
    assert Watchlist.load(path).get(FIRST).label == "dad"
    assert one.get(FIRST).label == "dad"  # and the remover's view shows it back


def test_changes_made_while_a_save_runs_stay_unsaved_and_are_saved_next(path: Path) -> None:
    one, _ = two_panes(path)
    ours = dict(one.cases)
    written = one._write_merged(one.file, ours)
    one.set_label(SECOND, "typed during the save")
    one._adopt(ours, written)
    assert one.get(SECOND).label == "typed during the save"
    assert one.has_unsaved_changes()
    one.save()
    assert not one.has_unsaved_changes()
    assert Watchlist.load(path).get(SECOND).label == "typed during the save"


def test_an_undo_keeps_its_place(path: Path) -> None:
    one, two = two_panes(path)
    two.add(THIRD, added_at=NOW)
    two.save()
    removed = one.remove(FIRST)
    one.save()
    one.restore(removed, 0)
    one.save()
    assert list(one.cases) == [FIRST.value, SECOND.value, THIRD.value]
    assert list(Watchlist.load(path).cases) == list(one.cases)


def test_merge_events_keeps_one_of_the_same_change() -> None:
    event = ChangeEvent(NOW, NOW, "Case Was Received", "Case Was Approved", ("title",))
    again = replace(event, seen_at=LATER)
    assert merge_events((event,), (again,)) == (event,)


def test_an_external_edit_is_found_and_taken_in(path: Path) -> None:
    one, _ = two_panes(path)
    text = path.read_text().replace('label = "mom"', 'label = "mother"')
    path.write_text(f'{text}\n[[case]]\nreceipt_number = "{THIRD}"\nadded_at = {NOW.isoformat()}\n')
    assert one.changed_on_disk()
    changes = asyncio.run(one.reload_async())
    assert set(changes) == {FIRST.value, THIRD.value}
    assert one.get(FIRST).label == "mother" and THIRD.value in one.cases
    assert not one.changed_on_disk() and not one.has_unsaved_changes()


def test_a_case_appended_as_a_table_to_inline_cases_gets_a_hint(path: Path) -> None:
    path.write_text(INLINE)  # as an older casewatch wrote short cases
    assert list(Watchlist.load(path).cases) == [FIRST.value, SECOND.value]
    with path.open("a") as handle:
        handle.write(f'[[case]]\nreceipt_number = "{THIRD}"\nadded_at = {NOW.isoformat()}\n')
    with pytest.raises(WatchlistError, match="add a case inside those brackets"):
        Watchlist.load(path)


# --- long watchlists: each case its own table, saves that do only what changed ------------


def long_watchlist(path: Path, count: int) -> list[str]:
    """A saved watchlist of ``count`` cases, each with a status; their receipts in order."""
    watchlist = Watchlist(path)
    for number in range(1, count + 1):
        case = watchlist.add(parse_receipt_number(receipt(number)), added_at=NOW)
        watchlist.record_status(case.receipt_number, status(f"step {number}"), NOW)
    watchlist.save()
    return list(watchlist.cases)


@pytest.fixture
def split_from_5(monkeypatch: pytest.MonkeyPatch) -> None:
    """load_first splits files of more than 5 cases (not 200: the tests' files are short)."""
    monkeypatch.setattr(store, "READ_WHOLE_UP_TO", 5)


def test_short_cases_are_written_as_tables_not_inline(path: Path) -> None:
    two_panes(path)
    text = path.read_text()
    assert "case = [" not in text and text.count("\n[[case]]\n") == 2
    assert list(Watchlist.load(path).cases) == [FIRST.value, SECOND.value]


def test_a_save_with_nothing_changed_writes_nothing(path: Path) -> None:
    one, _ = two_panes(path)
    before = path.stat()
    assert one.save() == {}
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not backup_path(path).exists()


def test_a_save_writes_again_only_the_cases_that_changed(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_watchlist(path, 5)
    one = Watchlist.load(path)
    written: list[str] = []
    real_case_text = watchlist_toml.case_text

    def counted(case: WatchedCase) -> str:
        written.append(case.receipt_number.value)
        return real_case_text(case)

    monkeypatch.setattr(watchlist_writing, "case_text", counted)  # a save's texts
    one.set_label(receipt(2), "first save")
    one.save()
    assert written == [receipt(2)]  # the others as read
    one.set_label(receipt(4), "second save")
    one.save()
    assert written == [receipt(2), receipt(4)]
    assert path.read_text() == watchlist_text(Watchlist.load(path).cases)
    path.write_text(path.read_text().replace("\n[[case]]\n", "\n[[ case ]]\n"))  # by hand
    two = Watchlist.load(path)
    two.set_label(receipt(4), "third save")
    written.clear()
    two.save()
    assert len(written) == 5  # read whole: no text kept of a file written otherwise
    assert path.read_text() == watchlist_text(two.cases)


def test_a_reload_parses_only_the_cases_another_process_changed(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = long_watchlist(path, 6)
    one, two = Watchlist.load(path), Watchlist.load(path)
    two.set_label(order[3], "changed there")
    two.save()
    parsed: list[str] = []
    real_lone_case = reading._lone_case

    def counted(chunk: str) -> WatchedCase | None:
        parsed.append(chunk)
        return real_lone_case(chunk)

    monkeypatch.setattr(reading, "_lone_case", counted)
    before = dict(one.cases)
    assert set(asyncio.run(one.reload_async())) == {order[3]}
    assert len(parsed) == 1 and one.get(order[3]).label == "changed there"
    assert all(one.cases[key] is before[key] for key in order if key != order[3])


def test_a_header_line_inside_a_multi_line_string_is_text(path: Path) -> None:
    order = long_watchlist(path, 3)
    text = path.read_text()
    fake = f'[[case]]\nreceipt_number = "{THIRD}"\nadded_at = {NOW.isoformat()}\n'
    label = f'label = """notes:\n{fake}"""\n'
    path.write_text(text.replace(f'"{order[1]}"\n', f'"{order[1]}"\n{label}', 1))
    cases = Watchlist.load(path).cases
    # The label is kept as one line; the header in it made no case.
    assert list(cases) == order and cases[order[1]].label == " ".join(f"notes:\n{fake}".split())


@pytest.mark.usefixtures("split_from_5")
def test_the_first_cases_of_a_long_file_are_read_first_and_the_rest_later(path: Path) -> None:
    order = long_watchlist(path, 10)
    one = Watchlist.load_first(path, 3)
    assert list(one.cases) == order[:3] and one.unread == 7
    assert one.cases == {key: Watchlist.load(path).cases[key] for key in order[:3]}
    changes = asyncio.run(one.reload_async())
    assert set(changes) == set(order[3:]) and all(changes[key] is None for key in order[3:])
    assert list(one.cases) == order and one.unread == 0
    assert not one.has_unsaved_changes() and not one.changed_on_disk()


@pytest.mark.usefixtures("split_from_5")
def test_a_save_before_the_rest_is_read_keeps_it(path: Path) -> None:
    order = long_watchlist(path, 10)
    one = Watchlist.load_first(path, 3)
    one.remove(order[1])
    one.set_label(order[0], "edited")
    one.save()
    kept = Watchlist.load(path).cases
    assert list(kept) == [order[0], *order[2:]] and kept[order[0]].label == "edited"
    assert list(one.cases) == list(kept) and one.unread == 0


@pytest.mark.usefixtures("split_from_5")
def test_a_file_that_does_not_split_into_tables_is_read_whole(path: Path) -> None:
    more = "".join(
        f'    {{ receipt_number = "{receipt(n)}", added_at = {NOW.isoformat()} }},\n'
        for n in range(1, 7)
    )
    path.write_text(INLINE.replace("\n]", f"\n{more}]"))  # 8 cases, inline
    one = Watchlist.load_first(path, 1)
    assert len(one.cases) == 8 and one.unread == 0


def test_a_short_file_is_read_whole(path: Path) -> None:
    order = long_watchlist(path, 10)
    one = Watchlist.load_first(path, 3)
    assert list(one.cases) == order and one.unread == 0 and one.file.digest is not None


@pytest.mark.usefixtures("split_from_5")
@pytest.mark.parametrize("where", [2, 9])
def test_a_syntax_error_is_reported_as_when_the_file_is_read_whole(path: Path, where: int) -> None:
    long_watchlist(path, 10)
    text = path.read_text()
    bad = text.replace(f'receipt_number = "{receipt(where)}"', f"receipt_number = {receipt(where)}")
    path.write_text(bad)
    with pytest.raises(WatchlistError) as whole:
        Watchlist.load(path)
    assert "line" in str(whole.value)
    if where <= 3:  # among the first cases: said at once
        with pytest.raises(WatchlistError) as first:
            Watchlist.load_first(path, 3)
    else:  # after them: said when the rest is read, and the file is never written
        one = Watchlist.load_first(path, 3)
        with pytest.raises(WatchlistError) as first:
            asyncio.run(one.reload_async())
        one.set_label(receipt(1), "edited")
        with pytest.raises(WatchlistError):
            one.save()
        assert path.read_text() == bad
    assert str(first.value) == str(whole.value)


# --- backup, bad files and the schema --------------------------------------------------------


def test_the_previous_version_is_kept_as_the_backup(path: Path) -> None:
    one, _ = two_panes(path)
    before = path.read_bytes()
    one.add(THIRD, added_at=NOW)
    one.save()
    assert backup_path(path).read_bytes() == before
    assert backup_path(path).stat().st_mode & 0o777 == 0o600


def test_a_backup_is_copied_where_hard_links_are_refused(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, _ = two_panes(path)
    before = path.read_bytes()

    def no_links(source: object, target: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr("casewatch.watchlist.writing.os.link", no_links)
    one.add(THIRD, added_at=NOW)
    one.save()
    assert backup_path(path).read_bytes() == before
    assert THIRD.value in Watchlist.load(path).cases


def test_a_syntax_error_names_the_file_line_column_and_the_backup(path: Path) -> None:
    one, _ = two_panes(path)
    one.set_label(SECOND, "dad")
    one.save()  # now there is a backup
    path.write_text(path.read_text().replace('label = "mom"', "label = mom"))
    column = path.read_text().splitlines()[4].index("mom") + 1
    with pytest.raises(WatchlistError) as caught:
        Watchlist.load(path)
    message = str(caught.value)
    assert str(path) in message and f"line 5, column {column}:" in message
    assert "Fix line 5" in message and f"cp {backup_path(path)} {path}" in message


def test_a_save_refuses_to_write_over_a_file_that_does_not_parse(path: Path) -> None:
    one, _ = two_panes(path)
    one.add(THIRD, label="new", added_at=NOW)
    good = path.read_bytes()
    broken = good.replace(b'label = "mom"', b"label = mom")
    path.write_bytes(broken)
    backup = backup_path(path).read_bytes() if backup_path(path).exists() else None
    with pytest.raises(WatchlistError, match="line 5"):
        one.save()
    assert path.read_bytes() == broken
    assert (backup_path(path).read_bytes() if backup_path(path).exists() else None) == backup
    assert THIRD.value in one.cases  # kept in memory
    # Repaired (by hand, or from the backup): the merge keeps both sides whole.
    path.write_bytes(good)
    one.save()
    assert list(Watchlist.load(path).cases) == [FIRST.value, SECOND.value, THIRD.value]


def test_cli_add_to_a_watchlist_broken_after_it_was_read_changes_nothing(
    path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    two_panes(path)
    digest_path(path).unlink()  # as by hand: read whole, then saved (no quick add)
    broken = b"schema = 1\n[[case]]\nreceipt_number = EAC\n"
    load = Watchlist.load

    def load_then_break(where: Path) -> Watchlist:
        watchlist = load(where)
        where.write_bytes(broken)  # a text editor saves between the read and the write
        return watchlist

    monkeypatch.setattr(Watchlist, "load", staticmethod(load_then_break))
    assert main(["add", THIRD.value, "--watchlist", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 3, column 18" in err and "casewatch: nothing was added or changed\n" in err
    assert path.read_bytes() == broken


def test_a_file_without_a_schema_is_migrated_and_the_original_kept(path: Path) -> None:
    original = f'[[case]]\nreceipt_number = "{FIRST}"\nadded_at = {NOW.isoformat()}\n'
    path.write_text(original)
    watchlist = Watchlist.load(path)
    assert list(watchlist.cases) == [FIRST.value]
    watchlist.add(SECOND, added_at=NOW)
    watchlist.save()
    assert path.read_text().startswith(f"schema = {SCHEMA_VERSION}\n")
    assert backup_path(path).read_text() == original


@pytest.mark.parametrize(
    ("schema", "problem"),
    [(str(SCHEMA_VERSION + 1), "newer casewatch wrote it"), ('"one"', "not a schema version")],
)
def test_a_schema_this_casewatch_cannot_read_is_refused_and_kept(
    path: Path, schema: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    one, _ = two_panes(path)
    text = path.read_text().replace(f"schema = {SCHEMA_VERSION}", f"schema = {schema}")
    path.write_text(text)
    with pytest.raises(WatchlistError, match=problem):
        Watchlist.load(path)
    one.add(THIRD, added_at=NOW)
    with pytest.raises(WatchlistError, match=problem):
        one.save()
    assert main(["add", THIRD.value, "--watchlist", str(path)]) == 2
    assert problem in capsys.readouterr().err
    assert path.read_text() == text


def test_a_bad_value_names_its_case_and_line(path: Path) -> None:
    path.write_text(
        f'schema = 1\n\n[[case]]\nreceipt_number = "{FIRST}"\nadded_at = {NOW.isoformat()}\n\n'
        '[[case]]\nreceipt_number = "EAC123"\n'
    )
    with pytest.raises(WatchlistError, match=r"case 2 \(line 7\)"):
        Watchlist.load(path)


def test_a_config_syntax_error_names_the_line_and_column(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('env = "demo"\nrefresh_minutes = \n')
    with pytest.raises(ConfigError) as caught:
        read_config_file(config)
    assert str(config) in str(caught.value) and "line 2, column 19" in str(caught.value)
    assert "Fix line 2" in str(caught.value)


# --- storage faults ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "code", "words"),
    [
        ("casewatch.files.os.fsync", errno.ENOSPC, "No space left on device"),
        ("casewatch.files.tempfile.mkstemp", errno.EROFS, "Read-only file system"),
        ("casewatch.files.os.fdopen", errno.EACCES, "Permission denied"),
    ],
)
def test_cli_storage_faults_exit_1_with_the_file_and_leave_it_whole(
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    code: int,
    words: str,
) -> None:
    two_panes(path)
    before = path.read_bytes()

    def fault(*args: object, **kwargs: object) -> None:
        raise OSError(code, words)

    monkeypatch.setattr(where, fault)
    assert main(["add", THIRD.value, "--watchlist", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot write {path}: {words}" in err
    assert "Nothing was added" in err and "Traceback" not in err and "Errno" not in err
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]


# --- one refresher -------------------------------------------------------------------------------


def test_cli_refresh_leaves_the_work_to_the_holder_of_the_lease(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_panes(path)
    before = path.read_bytes()
    lease = RefresherLease(path)
    assert lease.try_take()
    try:
        assert main(["refresh", "--watchlist", str(path)]) == 0
    finally:
        lease.release()
    err = capsys.readouterr().err
    assert f"another casewatch (pid {os.getpid()}) refreshes {path}" in err
    assert path.read_bytes() == before
    assert main(["refresh", "--watchlist", str(path)]) == 0  # the lease is free again
    assert Watchlist.load(path).get(FIRST).status is not None


# --- real processes ---------------------------------------------------------------------------

ADDER = textwrap.dedent(
    """
    import sys
    from casewatch.cli import main
    path, start, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for number in range(start, start + count):
        code = main(["add", f"LIN{2_100_000_000 + number:010d}", "--watchlist", path])
        assert code == 0, code
    """
)


def test_two_processes_adding_150_cases_each_at_once_keep_all_300(path: Path) -> None:
    two_panes(path)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", ADDER, str(path), str(start), "150"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for start in (0, 1000)
    ]
    for child in children:
        _, err = child.communicate(timeout=600)
        assert child.returncode == 0, err.decode()
    cases = Watchlist.load(path).cases
    expected = {receipt(n) for n in [*range(150), *range(1000, 1150)]}
    assert expected <= set(cases) and len(cases) == 302


SAVER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from casewatch.cases import US_EASTERN
    from casewatch.receipts import parse_receipt_number
    from casewatch.watchlist import Watchlist
    watchlist = Watchlist.load(__import__("pathlib").Path(sys.argv[1]))
    number = len(watchlist)
    while True:
        receipt = parse_receipt_number(f"LIN{2_100_000_000 + number:010d}")
        watchlist.add(receipt, label="x" * (number % 40), added_at=datetime.now(US_EASTERN))
        watchlist.save()
        number += 1
        print(number, flush=True)  # every case up to this one is saved
    """
)


def test_kill_9_in_the_middle_of_saves_never_loses_a_saved_case(path: Path) -> None:
    chance = random.Random(6)
    saved = 0
    for _ in range(15):
        child = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stderr is not None
        for _ in range(chance.randint(1, 12)):
            line = child.stdout.readline()
            assert line, child.stderr.read()
        time.sleep(chance.uniform(0, 0.02))  # somewhere inside one of the next saves
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        saved = int([line, *child.stdout.read().split()][-1])  # the last save that returned
        cases = list(Watchlist.load(path).cases)  # parses, every time
        assert cases[:saved] == [receipt(n) for n in range(saved)]
        assert len(cases) in (saved, saved + 1)  # killed after a rename, before its print
    leftovers = [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"]
    # At most the last kill's temporary file and spare backup link; the next save removes them.
    assert len(leftovers) <= 2


def test_kill_9_during_large_imports_never_leaves_a_file_that_does_not_parse(
    tmp_path: Path,
) -> None:
    benchmark = Path(__file__).parents[1] / "benchmarks" / "durable.py"
    spec = importlib.util.spec_from_file_location("durable_benchmark", benchmark)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outcomes = module.kills_during_imports(tmp_path, random.Random(15))
    assert outcomes["did not parse"] == outcomes["other"] == 0
    assert outcomes["old file"] + outcomes["new file"] == 15
