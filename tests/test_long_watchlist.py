"""Tests of the watchlist verbs on a file casewatch wrote, changed or read case by case
(issue 16, point 4; ``casewatch.watchlist.splice``): ``add`` and ``remove`` parse only
the cases they name and keep the others byte for byte, ``list`` reads case by case and
prints what it printed when it read the file whole. Any other file (by hand, inline, an
older schema, a digest that no longer matches) is read whole, as before. The speed is
measured by ``benchmarks/durable.py``, not here.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from casewatch import listing
from casewatch.cases import US_EASTERN, CaseStatus, HistoryEntry
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import (
    SCHEMA_VERSION,
    WatchedCase,
    Watchlist,
    backup_path,
    reading,
    watchlist_text,
)
from casewatch.watchlist.writing import digest_path
from test_durable import ADDER  # casewatch add in a loop, in a process of its own
from test_verbs import (  # the helpers and autouse fixture of the watchlist verbs' tests
    no_config_variable,  # noqa: F401
    on_a_terminal,
    run,
)

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)
NEW = "WAC2190012345"


def receipt(number: int) -> str:
    return f"LIN{2_100_000_000 + number:010d}"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "w.toml"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The receipt numbers of the cases parsed from their text, as they are parsed."""
    seen: list[str] = []
    real = reading._lone_case

    def counted(chunk: str) -> WatchedCase | None:
        case = real(chunk)
        seen.append(case.receipt_number.value if case is not None else "?")
        return case

    monkeypatch.setattr(reading, "_lone_case", counted)
    return seen


def varied_watchlist(path: Path, count: int = 6) -> list[str]:
    """A saved watchlist of ``count`` cases: answered or not, a failed check, a client,
    tags and a note on some, a long status; their receipts in order."""
    watchlist = Watchlist(path)
    for number in range(1, count + 1):
        key = parse_receipt_number(receipt(number))
        watchlist.add(
            key,
            label=f"case {number}" if number % 3 else "",
            client=["", "Garcia, Maria", "Lee"][number % 3],
            tags=("premium",) if number % 2 else (),
            note="call back\nafter the interview" if number == 4 else "",
            added_at=NOW,
        )
        if number % 4:
            title = ["Case Was Received", "Request for Evidence Was Sent", "Case Was Approved"]
            status = CaseStatus(
                key.value,
                "I-485" if number % 2 else "I-130",
                title[number % 3] + " and more words" * (number % 2) * 5,
                "<p>The description.</p>",
                modified=NOW - timedelta(days=number),
                history=(HistoryEntry(None, "", "Received"),),
            )
            watchlist.record_status(key, status, NOW + timedelta(hours=number))
        if number == 5:
            watchlist.record_error(key, "USCIS did not answer in 30 s", NOW + timedelta(days=1))
    watchlist.save()
    return list(watchlist.cases)


def recorded(path: Path) -> bool:
    """Whether ``<file>.sha256`` holds the SHA-256 of the file, as ``sha256sum -c`` checks."""
    digest = digest_path(path).read_text().split()[0]
    return digest == hashlib.sha256(path.read_bytes()).hexdigest()


# --- add and remove ---------------------------------------------------------------------------


def test_add_and_remove_parse_only_the_cases_they_name_and_keep_the_others_byte_for_byte(
    capsys: pytest.CaptureFixture[str], path: Path, parsed: list[str]
) -> None:
    order = varied_watchlist(path)
    before = path.read_text()
    cases = dict(Watchlist.load(path).cases)
    parsed.clear()

    code, out, err = run(capsys, path, "add", NEW, "--label", "new one", "--tag", "JD")
    assert (code, out, err) == (0, f"added {NEW} (new one), tags 'JD'\n", "")
    assert parsed == []  # not even the new one's neighbours
    assert path.read_text().startswith(before) and recorded(path)
    assert backup_path(path).read_text() == before

    code, out, err = run(capsys, path, "add", order[1], "--label", "renamed", "--update")
    assert (code, out, err) == (0, f"{order[1]}: label 'case 2' replaced by 'renamed'\n", "")
    assert parsed == [order[1]]

    code, out, err = run(capsys, path, "remove", order[0], SECOND_MISSING)
    assert code == 0 and out == f"removed {order[0]} (case 1)\n"
    assert err == f"casewatch: {SECOND_MISSING} is not on the watchlist {path}\n"
    assert parsed == [order[1], order[0]]

    after = Watchlist.load(path).cases
    assert list(after) == [*order[1:], NEW]
    assert after[order[1]].label == "renamed"
    assert after[NEW].tags == ("JD",) and after[NEW].label == "new one"
    for key in order[1:]:
        if key != order[1]:
            assert after[key] == cases[key]
    assert path.read_text() == watchlist_text(after)  # laid out as casewatch writes it
    assert recorded(path)


SECOND_MISSING = "EAC9999103402"


def test_many_receipts_at_once_are_found_by_reading_every_header_but_parsed_alone(
    capsys: pytest.CaptureFixture[str], path: Path, parsed: list[str]
) -> None:
    order = varied_watchlist(path, 12)
    parsed.clear()
    new = [receipt(100 + number) for number in range(7)]
    named = [order[2], *new, order[10], order[5]]  # more than FIND_EACH_UP_TO
    code, out, _ = run(capsys, path, "add", *named, "--client", "Ortiz")
    assert code == 0 and out.count("added ") == 7
    assert sorted(parsed) == sorted([order[2], order[10], order[5]])
    cases = Watchlist.load(path).cases
    assert list(cases) == [*order, *new]
    assert [cases[key].client for key in (order[2], order[10], order[5])] == [
        "Ortiz",
        "Lee",
        "Ortiz",
    ]
    assert recorded(path)


def test_an_add_that_changes_nothing_and_a_remove_of_nothing_write_nothing(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    order = varied_watchlist(path)
    before = path.stat()
    code, _, err = run(capsys, path, "add", order[0], "--label", "other")
    assert code == 0 and "already on the watchlist" in err and "--update replaces it" in err
    code, _, err = run(capsys, path, "remove", SECOND_MISSING)
    assert code == 2 and err.endswith("casewatch: nothing was removed\n")
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not backup_path(path).exists()


HAND_WRITTEN = f"""# my cases
[[ case ]]
receipt_number = "{receipt(1)}"
label = "by hand"
added_at = 2026-11-29T09:30:00-05:00
"""

INLINE = f"""schema = 1
case = [
    {{ receipt_number = "{receipt(1)}", label = "by hand", added_at = {NOW.isoformat()} }},
]
"""

OLDER_SCHEMA = f"""schema = 2

[[case]]
receipt_number = "{receipt(1)}"
label = "by hand"
added_at = 2026-11-29 09:30:00-05:00
"""


@pytest.mark.parametrize("text", [HAND_WRITTEN, INLINE, OLDER_SCHEMA], ids=["hand", "inline", "2"])
def test_a_file_casewatch_did_not_write_is_read_whole_then_changed_in_place(
    capsys: pytest.CaptureFixture[str], path: Path, parsed: list[str], text: str
) -> None:
    path.write_text(text)
    assert run(capsys, path, "add", NEW)[:2] == (0, f"added {NEW}\n")
    assert backup_path(path).read_text() == text
    assert path.read_text().startswith(f"schema = {SCHEMA_VERSION}\n") and recorded(path)
    assert list(Watchlist.load(path).cases) == [receipt(1), NEW]
    assert Watchlist.load(path).get(receipt(1)).label == "by hand"
    parsed.clear()
    assert run(capsys, path, "remove", NEW)[:2] == (0, f"removed {NEW}\n")
    assert parsed == [NEW]  # now a file casewatch wrote
    assert list(Watchlist.load(path).cases) == [receipt(1)]


def test_a_file_edited_by_hand_since_casewatch_wrote_it_is_read_whole(
    capsys: pytest.CaptureFixture[str], path: Path, parsed: list[str]
) -> None:
    order = varied_watchlist(path)
    path.write_text(path.read_text().replace('label = "case 2"', 'label = "edited"'))
    parsed.clear()
    assert run(capsys, path, "add", NEW)[0] == 0
    assert len(parsed) == len(order)  # every case read: the digest no longer matched
    assert Watchlist.load(path).get(order[1]).label == "edited" and recorded(path)


@pytest.mark.parametrize("verb", [("add", NEW), ("remove", receipt(1)), ("list",)])
def test_a_case_broken_by_hand_is_reported_with_its_line_and_nothing_is_written(
    capsys: pytest.CaptureFixture[str], path: Path, verb: tuple[str, ...]
) -> None:
    varied_watchlist(path)
    path.write_text(path.read_text().replace('label = "case 5"', 'label = "case 5'))
    before = path.read_bytes()
    code, out, err = run(capsys, path, *verb)
    assert code == 2 and out == ""
    assert f"the watchlist {path} is not valid TOML" in err and "line " in err
    assert path.read_bytes() == before


def test_a_newer_schema_is_never_written_over_even_with_its_digest(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    varied_watchlist(path)
    newer = path.read_text().replace(f"schema = {SCHEMA_VERSION}", "schema = 99", 1)
    path.write_text(newer)
    digest_path(path).write_text(f"{hashlib.sha256(newer.encode()).hexdigest()}  w.toml\n")
    for verb in (("add", NEW), ("remove", receipt(1)), ("list", "--json")):
        code, out, err = run(capsys, path, *verb)
        assert code == 2 and out == "" and "a newer casewatch wrote it" in err
    assert path.read_text() == newer


def test_adds_in_place_and_a_dashboards_saves_at_once_lose_nothing(path: Path) -> None:
    order = varied_watchlist(path)
    adder = subprocess.Popen(
        [sys.executable, "-c", ADDER, str(path), "1000", "40"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    dashboard = Watchlist.load(path)
    labelled = 0
    while adder.poll() is None or labelled < 20:
        key = order[labelled % len(order)]
        dashboard.set_label(key, f"label {labelled}")
        dashboard.save()
        labelled += 1
    _, err = adder.communicate(timeout=600)
    assert adder.returncode == 0, err.decode()
    dashboard.save()
    cases = Watchlist.load(path).cases
    assert set(cases) == {*order, *(receipt(n) for n in range(1000, 1040))}
    assert {cases[key].label for key in order} >= {f"label {labelled - 1}"}
    assert cases == dashboard.cases and recorded(path)


# --- list -------------------------------------------------------------------------------------

LISTINGS = [
    ("list",),
    ("list", "--json"),
    ("list", "--stage", "action-needed"),
    ("list", "--client", "garcia, MARIA"),
    ("list", "--client", "Nobody"),
    ("list", "--tag", "premium", "--json"),
    ("list", "--tag", "none"),
    ("list", "--changed-since", "2026-11-27"),
]


@pytest.mark.parametrize("columns", [None, 80, 50])
def test_list_read_case_by_case_prints_what_it_printed_reading_the_file_whole(
    capsys: pytest.CaptureFixture[str],
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    columns: int | None,
) -> None:
    if columns is not None:
        on_a_terminal(monkeypatch, columns)
    varied_watchlist(path, 9)
    with monkeypatch.context() as patched:  # case by case: the file is never loaded whole
        patched.setattr(Watchlist, "load", None)
        streamed = [run(capsys, path, *argv) for argv in LISTINGS]
    digest_path(path).unlink()  # now read whole, as before
    assert streamed == [run(capsys, path, *argv) for argv in LISTINGS]
    assert all(code == 0 for code, _, _ in streamed)
    assert [len(out.splitlines()) for _, out, _ in streamed] == [10, 9, 3, 4, 0, 5, 0, 3]
    assert "has the client 'Nobody' (its clients: 'Garcia, Maria', 'Lee')" in streamed[4][2]


def broken_in_place(path: Path, number: int) -> None:
    """Break the ``number``-th case of ``path`` and record the digest, as a fault of
    casewatch's would (a case it wrote that it cannot read back)."""
    text = path.read_text().replace(f'label = "case {number}"', f"label = case {number}")
    path.write_text(text)
    digest_path(path).write_text(f"{hashlib.sha256(text.encode()).hexdigest()}  w.toml\n")


def test_list_json_stopped_by_a_case_that_cannot_be_read_says_it_is_not_whole(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    order = varied_watchlist(path)
    broken_in_place(path, 4)
    code, out, err = run(capsys, path, "list", "--json")
    assert code == 2
    assert [json.loads(line)["receipt_number"] for line in out.splitlines()] == order[:3]
    problem, stop = err.splitlines()
    assert problem.startswith(f"casewatch: the watchlist {path} is not valid TOML")
    assert "line " in problem and "column " in problem
    assert stop == "casewatch: the list above stops before case 4: it is not whole"


def test_a_list_table_stopped_by_a_case_that_cannot_be_read_prints_no_row(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    varied_watchlist(path)
    broken_in_place(path, 5)
    code, out, err = run(capsys, path, "list")
    assert code == 2 and out == ""
    assert err.startswith(f"casewatch: the watchlist {path} is not valid TOML")
    assert "stops before" not in err


@pytest.mark.parametrize("columns", [None, 80])
def test_a_long_list_table_prints_as_it_reads_its_columns_sized_on_its_first_cases(
    capsys: pytest.CaptureFixture[str],
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    columns: int | None,
) -> None:
    if columns is not None:
        on_a_terminal(monkeypatch, columns)
    order = varied_watchlist(path, 9)
    whole = run(capsys, path, "list")[1].splitlines()
    monkeypatch.setattr(listing, "STREAM_FROM", 2)  # as 2,000 of 100,000 cases
    broken_in_place(path, 8)
    code, out, err = run(capsys, path, "list")
    lines = out.splitlines()
    assert code == 2 and [line.split()[0] for line in lines] == ["RECEIPT", *order[:7]]
    assert err.splitlines()[-1] == (
        "casewatch: the list above stops before case 8: it is not whole"
    )
    assert lines[0].split() == whole[0].split()  # the same columns: the client's too
    assert [line.split()[:2] for line in lines] == [line.split()[:2] for line in whole[:8]]
    if columns is not None:  # cut to the width the first two cases gave their columns
        assert all(len(line) <= columns for line in lines)
        status = lines[0].index("STATUS")
        assert lines[3][status:].startswith("Case Was Received and more") and "…" in lines[3]


def test_an_empty_selection_prints_no_table(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    varied_watchlist(path)
    code, out, err = run(capsys, path, "list", "--stage", "denied")
    assert code == 0 and out == "" and "matches --stage 'denied'" in err


# --- saves ------------------------------------------------------------------------------------


def test_saves_that_copy_runs_of_unchanged_cases_write_the_file_casewatch_would(
    path: Path,
) -> None:
    order = varied_watchlist(path, 9)
    dashboard = Watchlist.load(path)
    removed: list[WatchedCase] = []
    edits = [
        lambda: dashboard.set_label(order[0], "first"),  # the first case
        lambda: dashboard.set_label(order[4], "middle"),  # the runs before and after it
        lambda: dashboard.set_label(order[8], "last"),
        lambda: dashboard.remove(order[2]),
        lambda: dashboard.add(parse_receipt_number(NEW), added_at=NOW, label="new"),
        lambda: [dashboard.set_label(key, "both") for key in (order[5], order[7])],
        lambda: removed.append(dashboard.remove(order[1])),
        lambda: dashboard.restore(removed[0], 3),  # undone, in another place
    ]
    for number, edit in enumerate(edits):
        edit()
        dashboard.save()
        assert path.read_text() == watchlist_text(dashboard.cases), number
        assert Watchlist.load(path).cases == dashboard.cases and recorded(path)
